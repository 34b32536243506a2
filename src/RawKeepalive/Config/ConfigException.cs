namespace RawKeepalive.Config;

/// <summary>A configuration error, worded as nginx words it and ending "in FILE:LINE"
/// (e.g. <c>unknown directive "x" in conf/a.conf:12</c>). Thrown only while loading config.</summary>
public sealed class ConfigException(string message) : Exception(message);
