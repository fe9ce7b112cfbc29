using System.Text;

namespace Patron.Members.Import;

/// <summary>A CSV file that cannot be read past this point: its line and what is wrong there.</summary>
public sealed class CsvFormatException(int line, string message) : Exception(message)
{
    public int Line { get; } = line;
}

/// <summary>
/// RFC 4180 records, one at a time, each with the line it starts on: a quoted field may hold commas,
/// line breaks and doubled quotes. Quoting that breaks the rules stops the reading, since whatever
/// follows an unclosed quote cannot be told apart from the field. Blank lines are skipped.
/// </summary>
public sealed class CsvRecords(TextReader reader)
{
    private readonly char[] _buffer = new char[1 << 16];
    private readonly StringBuilder _field = new();
    private int _position;
    private int _length;
    private int _line = 1;

    /// <summary>Reads the next record into <paramref name="fields"/>; false at the end of the file.</summary>
    public bool TryRead(List<string> fields, out int line)
    {
        fields.Clear();
        while (Peek() is '\r' or '\n')
            EndLine();
        line = _line;
        if (Peek() < 0)
            return false;
        while (true)
        {
            _field.Clear();
            if (Peek() == '"')
                ReadQuoted(line, fields.Count + 1);
            else
                ReadPlain(fields.Count + 1);
            fields.Add(_field.ToString());
            var next = Peek();
            if (next == ',')
            {
                Next();
                continue;
            }
            if (next is '\r' or '\n')
                EndLine();
            return true;
        }
    }

    private void ReadPlain(int column)
    {
        while (Peek() is var c and >= 0 && c is not (',' or '\r' or '\n'))
        {
            if (c == '"')
                throw new CsvFormatException(_line, $"field {column} has a quote inside it but does not start with one: quote the whole field and double the quote (\"\")");
            _field.Append((char)Next());
        }
    }

    private void ReadQuoted(int start, int column)
    {
        Next();
        while (true)
        {
            var c = Next();
            if (c < 0)
                throw new CsvFormatException(start, $"field {column} opens a quote that is never closed");
            if (c == '"')
            {
                if (Peek() != '"')
                    break;
                Next();
            }
            else if (c == '\n' || (c == '\r' && Peek() != '\n'))
            {
                _line++;
            }
            _field.Append((char)c);
        }
        if (Peek() is var after and >= 0 && after is not (',' or '\r' or '\n'))
            throw new CsvFormatException(_line, $"field {column} has text after its closing quote");
    }

    private void EndLine()
    {
        if (Next() == '\r' && Peek() == '\n')
            Next();
        _line++;
    }

    private int Peek()
    {
        if (_position == _length && !Fill())
            return -1;
        return _buffer[_position];
    }

    private int Next()
    {
        var c = Peek();
        if (c >= 0)
            _position++;
        return c;
    }

    private bool Fill()
    {
        try
        {
            _length = reader.Read(_buffer, 0, _buffer.Length);
        }
        catch (DecoderFallbackException)
        {
            // The reader decodes a block ahead, so the bad bytes are at or after this line.
            throw new CsvFormatException(_line, "the file is not UTF-8 (a bad byte at or after this line)");
        }
        _position = 0;
        return _length > 0;
    }
}
