//! genoa's binary: parse arguments, run, map errors to exit codes (0 success, 1 error or
//! usage error, 0 on a broken pipe).

use genoa::cli::{Cli, LogFormat};

fn main() {
    if std::env::var_os("XDG_RUNTIME_DIR").is_none() {
        // Mesa's Vulkan loader complains on stderr, once per probe, when this is unset (as on
        // batch nodes and in containers); point it at the temporary directory.
        // SAFETY: first statement of main, before any other thread exists.
        unsafe { std::env::set_var("XDG_RUNTIME_DIR", std::env::temp_dir()) };
    }
    // Usage errors exit 1 like every other error (README); --help and --version exit 0.
    let cli = match <Cli as clap::Parser>::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            let _ = e.print();
            std::process::exit(0);
        }
        Err(e) => {
            // One line, as every other error: clap's message without its usage block.
            let text = e.render().to_string();
            let message: Vec<&str> = text
                .lines()
                .take_while(|l| !l.starts_with("Usage:"))
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with("For more information"))
                .collect();
            let message = message.join(" ");
            let message = message.strip_prefix("error: ").unwrap_or(&message);
            eprintln!("genoa: error: {message} (see --help)");
            std::process::exit(1);
        }
    };
    init_logging(cli.verbose, cli.log_format);
    if let Err(e) = genoa::cli::run(cli) {
        if let genoa::Error::Io { source, .. } = &e
            && source.kind() == std::io::ErrorKind::BrokenPipe
        {
            std::process::exit(0);
        }
        eprintln!("genoa: error: {e}");
        std::process::exit(1);
    }
}

fn init_logging(verbose: u8, format: LogFormat) {
    let level = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("GENOA_LOG").unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(format!(
            "warn,genoa={level},genoa_core={level},genoa_kernels={level},genoa_engine={level},genoa_submit={level},genoa::status=info,wgpu_hal=off,wgpu_core=error,wgpu=error,naga=error"
        ))
    });
    genoa::report::progress::set_json(format == LogFormat::Json);
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}
