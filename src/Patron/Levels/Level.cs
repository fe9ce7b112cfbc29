namespace Patron.Levels;

public sealed class Level
{
    /// <summary>Fits in a byte, as in the original system; ids rise with thresholds.</summary>
    public byte Id { get; set; }
    public required string Name { get; set; }
    public long Threshold { get; set; }
}
