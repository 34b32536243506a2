namespace RawKeepalive.Http;

public enum ParseResult : byte { Complete, Incomplete, Error }
