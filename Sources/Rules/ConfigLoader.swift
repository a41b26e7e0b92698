/// Loads a configuration file and everything it includes, and validates it.
///
/// Nothing here touches the system: files, directories and environment variables come from
/// the ``ConfigEnvironment``. Every problem found is returned, each with a location and a hint.
public enum ConfigLoader {
    /// Reads `path` (and its includes) through `env` and validates the result.
    public static func load(path: String, env: ConfigEnvironment) -> Result<BridgeConfig, ConfigErrors> {
        var includes = IncludeResolver(env: env)
        includes.load(path: ConfigPath.normalize(path), from: nil)
        return finish(includes, mainFile: path, env: env)
    }

    /// Validates configuration `text` as if read from `file` (includes are resolved against the
    /// directory of `file` and read through `env`).
    public static func parse(text: String, file: String, env: ConfigEnvironment) -> Result<BridgeConfig, ConfigErrors> {
        var includes = IncludeResolver(env: env)
        includes.load(text: text, path: file)
        return finish(includes, mainFile: file, env: env)
    }

    private static func finish(_ includes: IncludeResolver, mainFile: String, env: ConfigEnvironment) -> Result<BridgeConfig, ConfigErrors> {
        // Without the main file there is nothing to validate; "no server block" would be noise.
        if includes.files.isEmpty { return .failure(ConfigErrors(includes.errors)) }
        var builder = ConfigBuilder(env: env, mainFile: mainFile)
        let config = builder.build(includes.blocks, files: includes.files)
        // Sorted by file (in reading order), then position, so the output reads top to bottom.
        let order = Dictionary(includes.files.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        let errors = (includes.errors + builder.errors).enumerated().sorted { a, b in
            let (x, y) = (a.element.location, b.element.location)
            let (fx, fy) = (order[x.file] ?? Int.max, order[y.file] ?? Int.max)
            if fx != fy { return fx < fy }
            if x.line != y.line { return x.line < y.line }
            if x.column != y.column { return x.column < y.column }
            return a.offset < b.offset
        }.map(\.element)
        if let config, errors.isEmpty { return .success(config) }
        return .failure(ConfigErrors(errors))
    }
}
