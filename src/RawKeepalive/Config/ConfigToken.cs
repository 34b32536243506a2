namespace RawKeepalive.Config;

public enum ConfigTokenKind : byte { Word, Semicolon, OpenBrace, CloseBrace, EndOfFile }

/// <summary>One lexical token. <see cref="Line"/> is where the token starts (for end of file: the
/// line nginx would report, i.e. one past a trailing newline).</summary>
public readonly record struct ConfigToken(ConfigTokenKind Kind, string Text, string File, int Line);
