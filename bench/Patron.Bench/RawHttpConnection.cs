using System.Buffers;
using System.Buffers.Text;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Patron.Bench;

/// <summary>
/// One keep-alive HTTP/1.1 connection that sends a request and reads its answer, one at a time: the
/// load generator's client. It does what wrk does and no more (no pooling, redirects, cookies or
/// header objects), so that on two cores it takes as little CPU as it can from the service it
/// measures. The answer's body is read whole, by Content-Length or chunked.
/// </summary>
public sealed class RawHttpConnection(Uri server) : ILoadConnection
{
    private static readonly byte[] HeaderEnd = "\r\n\r\n"u8.ToArray();
    private static readonly byte[] CrLf = "\r\n"u8.ToArray();

    private Socket? _socket; // connected on first use, and again after a failure
    private byte[] _buffer = new byte[16 * 1024];
    private int _start, _end; // the bytes received and not yet read: _buffer[_start.._end]

    public async Task<(HttpStatusCode Status, byte[] Body)> SendAsync(HttpRequestMessage request, CancellationToken ct)
    {
        var bytes = Serialize(request, server);
        try
        {
            if (_socket is null)
            {
                _socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                await _socket.ConnectAsync(server.Host, server.Port, ct);
            }
            return await ExchangeAsync(_socket, bytes, ct);
        }
        catch
        {
            // Whatever was left half read, the next request starts on a new connection.
            Dispose();
            throw;
        }
    }

    /// <summary>The bytes of <paramref name="request"/> on the wire (its content read now; it must be in memory).</summary>
    private static byte[] Serialize(HttpRequestMessage request, Uri server)
    {
        var body = request.Content?.ReadAsByteArrayAsync().GetAwaiter().GetResult() ?? [];
        var head = new StringBuilder(256)
            .Append(request.Method.Method).Append(' ').Append(request.RequestUri!.OriginalString).Append(" HTTP/1.1\r\n")
            .Append("Host: ").Append(server.Authority).Append("\r\n");
        foreach (var (name, values) in request.Headers.NonValidated)
            head.Append(name).Append(": ").Append(values.ToString()).Append("\r\n");
        if (request.Content is { } content)
            foreach (var (name, values) in content.Headers.NonValidated)
                if (!name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
                    head.Append(name).Append(": ").Append(values.ToString()).Append("\r\n");
        if (body.Length > 0 || request.Method != HttpMethod.Get)
            head.Append("Content-Length: ").Append(body.Length).Append("\r\n");
        head.Append("\r\n");
        return [.. Encoding.UTF8.GetBytes(head.ToString()), .. body];
    }

    /// <summary>Sends one request and reads its answer; the body is a copy the caller keeps.</summary>
    private async Task<(HttpStatusCode Status, byte[] Body)> ExchangeAsync(Socket socket, byte[] request, CancellationToken ct)
    {
        for (var sent = 0; sent < request.Length;)
            sent += await socket.SendAsync(request.AsMemory(sent), SocketFlags.None, ct);

        int headerLength;
        while ((headerLength = _buffer.AsSpan(_start, _end - _start).IndexOf(HeaderEnd)) < 0)
            await ReceiveAsync(ct);
        var head = _buffer.AsSpan(_start, headerLength);
        var status = ParseStatus(head);
        var (contentLength, chunked) = ParseFraming(head);
        _start += headerLength + HeaderEnd.Length;

        byte[] body;
        if (chunked)
            body = await ReadChunkedAsync(ct);
        else
        {
            var length = contentLength ?? throw new IOException("an answer with neither Content-Length nor chunked framing");
            while (_end - _start < length)
                await ReceiveAsync(ct);
            body = _buffer.AsSpan(_start, length).ToArray();
            _start += length;
        }
        return (status, body);
    }

    private async Task<byte[]> ReadChunkedAsync(CancellationToken ct)
    {
        var body = new ArrayBufferWriter<byte>(1024);
        while (true)
        {
            int lineLength;
            while ((lineLength = _buffer.AsSpan(_start, _end - _start).IndexOf(CrLf)) < 0)
                await ReceiveAsync(ct);
            var sizeText = _buffer.AsSpan(_start, lineLength);
            var extension = sizeText.IndexOf((byte)';');
            if (!Utf8Parser.TryParse(extension < 0 ? sizeText : sizeText[..extension], out int size, out _, 'x'))
                throw new IOException("a malformed chunk size");
            _start += lineLength + CrLf.Length;
            while (_end - _start < size + CrLf.Length)
                await ReceiveAsync(ct);
            if (size == 0)
            {
                _start += CrLf.Length; // no trailers: the service sends none
                return body.WrittenSpan.ToArray();
            }
            body.Write(_buffer.AsSpan(_start, size));
            _start += size + CrLf.Length;
        }
    }

    /// <summary>Receives more bytes after the unread ones, moving them to the front or growing the buffer as needed.</summary>
    private async Task ReceiveAsync(CancellationToken ct)
    {
        if (_start == _end)
            _start = _end = 0;
        else if (_end == _buffer.Length)
        {
            var unread = _end - _start;
            var target = unread * 2 > _buffer.Length ? new byte[_buffer.Length * 2] : _buffer;
            Buffer.BlockCopy(_buffer, _start, target, 0, unread);
            (_buffer, _start, _end) = (target, 0, unread);
        }
        var received = await _socket!.ReceiveAsync(_buffer.AsMemory(_end), SocketFlags.None, ct);
        if (received == 0)
            throw new IOException("the service closed the connection");
        _end += received;
    }

    private static HttpStatusCode ParseStatus(ReadOnlySpan<byte> head)
    {
        // "HTTP/1.1 200 OK"
        if (head.Length < 12 || !head.StartsWith("HTTP/1.1 "u8) || !Utf8Parser.TryParse(head.Slice(9, 3), out int code, out _))
            throw new IOException("a malformed status line");
        return (HttpStatusCode)code;
    }

    private static (int? ContentLength, bool Chunked) ParseFraming(ReadOnlySpan<byte> head)
    {
        int? length = null;
        var chunked = false;
        foreach (var range in head.Split(CrLf))
        {
            var line = head[range];
            var colon = line.IndexOf((byte)':');
            if (colon < 0)
                continue;
            var name = line[..colon];
            var value = line[(colon + 1)..].Trim((byte)' ');
            if (Ascii.EqualsIgnoreCase(name, "Content-Length"u8) && Utf8Parser.TryParse(value, out int n, out _))
                length = n;
            else if (Ascii.EqualsIgnoreCase(name, "Transfer-Encoding"u8) && Ascii.EqualsIgnoreCase(value, "chunked"u8))
                chunked = true;
        }
        return (length, chunked);
    }

    public void Dispose()
    {
        _socket?.Dispose();
        (_socket, _start, _end) = (null, 0, 0);
    }
}
