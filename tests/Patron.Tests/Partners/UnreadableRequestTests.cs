using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Patron.Tests.Infrastructure;

namespace Patron.Tests.Partners;

/// <summary>
/// Requests that Kestrel itself cannot read (chunks that are not chunks, a body cut off by a
/// reset) are the caller's fault, not the service's: each API answers in its own envelope with
/// Kestrel's status and code 1004 when someone is there to hear it, stores nothing, and logs no
/// error. Only a real socket shows this: the in-memory test server does not parse HTTP.
/// </summary>
public sealed class UnreadableRequestTests : IAsyncLifetime
{
    private readonly LogCapture _logs = new();
    private PatronApp _app = null!;
    private Uri _url = null!;

    public async Task InitializeAsync()
    {
        _app = new PatronApp(Backend.Sqlite.Storage, await Backend.Sqlite.NewDatabaseAsync(), TestCatalog.Write(TestCatalog.Build()),
            configure: b => b.ConfigureLogging(l => l.AddProvider(_logs)));
        _url = _app.StartKestrel();
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private const string PointAdd = "/api/Setting/KH_GRHY/Point/Add";
    private const string PointBody = """{"MemberId":1,"BusiType":"P","BusiBillNum":"B-CUT","ChangeValue":10}""";

    public static TheoryData<string, string, string> Apis => new()
    {
        { PointAdd, PointBody, "errcode" },
        { "/openapi/v1/useMncard", """{"channel":"hkl-test","timestamp":"1","param":"00"}""", "code" },
    };

    [Theory]
    [MemberData(nameof(Apis))]
    public async Task ChunksThatAreNotChunksAreAnsweredInTheApisEnvelopeAsInvalidInput(string path, string body, string codeField)
    {
        var request = $"POST {path} HTTP/1.1\r\nHost: {_url.Authority}\r\nAuthorization: Bearer {TestCatalog.ApiKey}\r\n" +
                      $"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{body}\r\n0\r\n\r\n";

        var answer = await ExchangeAsync(request);

        Assert.StartsWith("HTTP/1.1 400 ", answer);
        var json = answer[answer.IndexOf('{')..(answer.LastIndexOf('}') + 1)];
        Assert.Equal(1004, JsonNode.Parse(json)![codeField]!.GetValue<int>());
        Assert.Contains("could not be read", json);
        await AssertNothingStoredAndNoErrorLoggedAsync();
    }

    [Theory]
    [MemberData(nameof(Apis))]
    public async Task ACallerThatResetsTheConnectionInTheMiddleOfTheBodyIsNoError(string path, string body, string _)
    {
        // Content-Length promises twice the bytes that come; then the connection is reset, as a
        // client that is killed or times out does. Nobody is left to answer; the log must not cry error.
        using (var socket = await ConnectAsync())
        {
            var head = $"POST {path} HTTP/1.1\r\nHost: {_url.Authority}\r\nAuthorization: Bearer {TestCatalog.ApiKey}\r\n" +
                       $"Content-Type: application/json\r\nContent-Length: {2 * body.Length}\r\n\r\n";
            await socket.SendAsync(Encoding.UTF8.GetBytes(head + body), SocketFlags.None);
            await Task.Delay(200); // the request is being read when the reset comes
            socket.LingerState = new LingerOption(true, 0);
        }

        // Whether the service then sees a cancelled request or an unreadable one depends on timing; neither is an error.
        for (var waited = 0; waited < 20 && !_logs.Lines.Any(l => l.Contains("Executed endpoint", StringComparison.Ordinal)); waited++)
            await Task.Delay(100);
        await Task.Delay(500);
        await AssertNothingStoredAndNoErrorLoggedAsync(unreadableLogged: false);
    }

    [Fact]
    public async Task ChunksThatAreNotChunksOnTheConsoleAreABadRequestAndNoError()
    {
        // The console's form reading answers 400 itself, before the exception handler; what matters is no 500 and no error.
        var request = $"POST /console/login HTTP/1.1\r\nHost: {_url.Authority}\r\n" +
                      "Content-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nuser=a&password=b\r\n0\r\n\r\n";

        var answer = await ExchangeAsync(request);

        Assert.StartsWith("HTTP/1.1 400 ", answer);
        await AssertNothingStoredAndNoErrorLoggedAsync(unreadableLogged: false);
    }

    private async Task<Socket> ConnectAsync()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync("127.0.0.1", _url.Port);
        return socket;
    }

    /// <summary>Writes the request and reads the answer up to the end of its first JSON body.</summary>
    private async Task<string> ExchangeAsync(string request)
    {
        using var socket = await ConnectAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await socket.SendAsync(Encoding.UTF8.GetBytes(request), SocketFlags.None, timeout.Token);
        var answer = new StringBuilder();
        var buffer = new byte[4096];
        while (!answer.ToString().Contains('}'))
        {
            var n = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
            if (n == 0)
                break;
            answer.Append(Encoding.UTF8.GetString(buffer, 0, n));
        }
        return answer.ToString();
    }

    private async Task AssertNothingStoredAndNoErrorLoggedAsync(bool unreadableLogged = true)
    {
        Assert.Equal(0, await _app.QueryAsync(db => db.PointEntries.CountAsync()));
        Assert.Equal(0, await _app.QueryAsync(db => db.CardUses.CountAsync()));
        Assert.DoesNotContain(_logs.Lines, l => l.StartsWith("Error ", StringComparison.Ordinal) || l.StartsWith("Critical ", StringComparison.Ordinal));
        if (unreadableLogged)
            Assert.Contains(_logs.Lines, l => l.Contains("Unreadable request", StringComparison.Ordinal));
    }
}
