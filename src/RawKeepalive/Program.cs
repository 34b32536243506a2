namespace RawKeepalive;

public static class Program
{
    public static int Main(string[] args)
    {
        Console.WriteLine("rawkeepalive");
        return 0;
    }
}
