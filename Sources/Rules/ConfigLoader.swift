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
        var builder = ConfigBuilder(env: env, mainFile: mainFile)
        let config = builder.build(includes.blocks, files: includes.files)
        let errors = includes.errors + builder.errors
        if let config, errors.isEmpty { return .success(config) }
        return .failure(ConfigErrors(errors))
    }
}
