using System.Security.Cryptography;

namespace Patron.Cards;

/// <summary>
/// Card codes: a letter and 12 random characters of Crockford's base32 (60 bits), so that no
/// outsider can walk from one code to the next. 13 characters, like the seed's L6SA36A6V0009.
/// </summary>
public static class CardCodes
{
    private const string Alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

    public static string New(char prefix)
    {
        Span<byte> random = stackalloc byte[12];
        RandomNumberGenerator.Fill(random);
        Span<char> code = stackalloc char[13];
        code[0] = prefix;
        for (var i = 0; i < 12; i++)
            code[i + 1] = Alphabet[random[i] & 31];
        return new string(code);
    }
}
