using System.Text;

namespace Gantry.NvidiaDocker;

/// <summary>A response of the plugin's APIs, independent of the HTTP server that sends it.</summary>
internal sealed record HttpReply(int Status, string? ContentType, byte[] Body)
{
    /// <summary>What Go's net/http sniffs for a text body.</summary>
    public const string PlainText = "text/plain; charset=utf-8";
    public const string Json = "application/json";

    public static HttpReply Text(string body, int status = 200) => new(status, PlainText, Encoding.UTF8.GetBytes(body));

    /// <summary>Go's http.Error: the message and a newline, as plain text.</summary>
    public static HttpReply Error(int status, string message) => Text(message + "\n", status);

    public static HttpReply NotFound { get; } = Error(404, "404 page not found");

    /// <summary>The methods a 405 names in its Allow header; null for other replies.</summary>
    public string? Allow { get; init; }

    /// <summary>A path that exists asked with a method it does not take.</summary>
    public static HttpReply MethodNotAllowed(string allow) => Error(405, "405 method not allowed") with { Allow = allow };

    /// <summary>What a handler that failed answers; the cause goes to the log only.</summary>
    public static HttpReply InternalError { get; } = Error(500, "internal error, check logs for details");
}
