# latest.png from the data Patron.Bench writes (one row per case, tab-separated); Patron.Bench runs
#   gnuplot -e "data='chart.dat'; out='latest.png'; limit=…; ymax=…; p99max=…; rssmax=…; heading='…'" bench/chart.gp
set terminal pngcairo size 1800,640 font "DejaVu Sans,11"
set output out
set datafile separator "\t"
set datafile missing "NaN"
set style fill solid 0.85 border -1
set boxwidth 0.7
set grid ytics
set xtics rotate by -30 left nomirror
set bmargin 7
set linetype 1 lc rgb "#8c8c8c"   # pgbench
set linetype 2 lc rgb "#3b75af"   # the service on PostgreSQL
set linetype 3 lc rgb "#ef8636"   # the service on SQLite
set multiplot layout 1,3 title heading font ",13"

set title sprintf("req/s (pgbench: tps); labels: × the same round's limit\n(dashed: the median limit, %.0f tps); dots: the goals", limit)
set yrange [0:ymax]
set arrow 1 from graph 0, first limit to graph 1, first limit nohead front dt 2 lw 2 lc rgb "#c00000"
plot data using 0:2:5:xtic(1) with boxes lc variable notitle, \
     '' using 0:2:(valid(7) ? sprintf("%.2f×", $7) : "") with labels offset 0,0.7 font ",10" notitle, \
     '' using 0:6 with points pt 7 ps 1.6 lc rgb "black" notitle
unset arrow 1

set title "p99 latency, ms (log scale)"
set logscale y
set yrange [0.5:p99max]
set arrow 2 from graph 0, first 50 to graph 1, first 50 nohead front dt 2 lw 2 lc rgb "#c00000"
set label 2 "goal 50 ms" at graph 0.02, first 50 offset 0,0.8 front tc rgb "#c00000"
plot data using 0:3:5:xtic(1) with boxes lc variable notitle
unset arrow 2
unset label 2
unset logscale y

set title "Peak RSS of the service, MB"
set yrange [0:rssmax]
set arrow 3 from graph 0, first 300 to graph 1, first 300 nohead front dt 2 lw 2 lc rgb "#c00000"
set label 3 "goal 300 MB" at graph 0.02, first 300 offset 0,0.8 front tc rgb "#c00000"
plot data using 0:4:5:xtic(1) with boxes lc variable notitle
unset multiplot
