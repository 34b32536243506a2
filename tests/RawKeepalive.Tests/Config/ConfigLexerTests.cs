using NUnit.Framework;
using RawKeepalive.Config;

namespace RawKeepalive.Tests.Config;

[TestFixture, CancelAfter(60_000)]
public class ConfigLexerTests
{
    private static List<ConfigToken> Lex(string text)
    {
        var lexer = new ConfigLexer(text, "t.conf");
        var tokens = new List<ConfigToken>();
        while (true)
        {
            var token = lexer.Next();
            tokens.Add(token);
            if (token.Kind == ConfigTokenKind.EndOfFile) return tokens;
        }
    }

    private static string Words(string text) =>
        string.Join(" ", Lex(text).Where(t => t.Kind != ConfigTokenKind.EndOfFile).Select(t => t.Kind == ConfigTokenKind.Word ? "<" + t.Text + ">" : t.Text));

    [TestCase("a b;", "<a> <b> ;")]
    [TestCase("a{b;}", "<a> { <b> ; }")]
    [TestCase("a \"b c\" 'd e';", "<a> <b c> <d e> ;")]
    [TestCase("a \"x\\\"y\" 'p\\'q';", "<a> <x\"y> <p'q> ;")]
    [TestCase("a \"t\\tn\\nb\\\\\";", "<a> <t\tn\nb\\> ;")]
    [TestCase("a b\\ c;", "<a> <b\\ c> ;")]              // other escapes stay as written
    [TestCase("a \"\";", "<a> <> ;")]
    [TestCase("a # comment ; {\nb;", "<a> <b> ;")]
    [TestCase("a b#c;", "<a> <b#c> ;")]                  // '#' starts a comment only where a word could
    [TestCase("a ${x}y;", "<a> <${x}y> ;")]              // "${" does not open a block
    [TestCase("a b};", "<a> <b}> ;")]                    // '}' inside a word is part of it, as nginx
    [TestCase("a\r\n\tb;", "<a> <b> ;")]
    public void Tokens(string text, string expected) => Assert.That(Words(text), Is.EqualTo(expected));

    [Test]
    public void EveryTokenKeepsFileAndLine()
    {
        var tokens = Lex("a\n\"multi\nline\" b\n;\n");
        Assert.That(tokens.Select(t => t.Line), Is.EqualTo(new[] { 1, 2, 3, 4, 5 }));
        Assert.That(tokens.All(t => t.File == "t.conf"), Is.True);
    }
}
