namespace RawKeepalive.Config;

/// <summary>Reads one directive argument as a typed value, failing with the wording of the nginx slot
/// handler that parses that kind of value (ngx_conf_set_flag_slot, _num_slot, _msec_slot, _size_slot).</summary>
internal static class DirectiveArgs
{
    /// <summary>on|off: <c>invalid value "x" in "d" directive, it must be "on" or "off"</c>.</summary>
    public static bool Flag(ConfigDirective d, int index = 0) => d.Args[index] switch
    {
        "on" => true,
        "off" => false,
        var v => throw ConfigError.At($"invalid value \"{v}\" in \"{d.Name}\" directive, it must be \"on\" or \"off\"", d),
    };

    /// <summary>A count: <c>"d" directive invalid number</c>.</summary>
    public static int Number(ConfigDirective d, int index = 0)
    {
        if (!Units.TryParseDigits(d.Args[index], out long n) || n > int.MaxValue)
            throw ConfigError.At($"\"{d.Name}\" directive invalid number", d);
        return (int)n;
    }

    /// <summary>A time in milliseconds: <c>"d" directive invalid value</c>.</summary>
    public static long TimeMs(ConfigDirective d, int index = 0) =>
        Units.TryParseTimeMs(d.Args[index], out long ms) ? ms : throw InvalidValue(d);

    /// <summary>A size in bytes: <c>"d" directive invalid value</c>.</summary>
    public static long Size(ConfigDirective d, int index = 0) =>
        Units.TryParseSize(d.Args[index], out long bytes) ? bytes : throw InvalidValue(d);

    /// <summary>A size that must fit a buffer (int, non-zero, as nginx's buffer sizes).</summary>
    public static int BufferSize(ConfigDirective d, int index = 0) =>
        Units.TryParseSize(d.Args[index], out long bytes) && bytes is > 0 and <= int.MaxValue ? (int)bytes : throw InvalidValue(d);

    public static ConfigException InvalidValue(ConfigDirective d) => ConfigError.At($"\"{d.Name}\" directive invalid value", d);

    /// <summary>The form nginx's own handlers use: <c>invalid value "x" in "d" directive</c>.</summary>
    public static ConfigException InvalidValueIn(ConfigDirective d, int index = 0) =>
        ConfigError.At($"invalid value \"{d.Args[index]}\" in \"{d.Name}\" directive", d);

    public static ConfigException InvalidParameter(ConfigDirective d, string parameter) =>
        ConfigError.At($"invalid parameter \"{parameter}\"", d);

    /// <summary>For a parameter nginx has and we do not: <c>the "ssl" parameter of the "listen" directive is not supported yet</c>.</summary>
    public static ConfigException ParameterNotSupported(ConfigDirective d, string parameter) =>
        ConfigError.At($"the \"{parameter}\" parameter of the \"{d.Name}\" directive is not supported yet", d);
}
