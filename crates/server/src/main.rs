//! `tessera`: the Tessera identity and access server.

mod app;
mod bootstrap;
mod db;
mod http;
mod import;
mod keyrock;
mod kheops;
mod ops;
mod settings;
mod telemetry;
#[cfg(debug_assertions)]
mod test_hooks;
mod wire_time;

use std::process::ExitCode;

use settings::{Cli, Command, ImportCommand, LoadError};

fn main() -> ExitCode {
    let cli = match Cli::load() {
        Ok(cli) => cli,
        Err(LoadError::Cli(e)) if !e.use_stderr() => e.exit(), // --help, --version
        Err(LoadError::Cli(e)) => {
            // One line, like every other bad setting.
            let text = e.to_string();
            let first = text.lines().next().unwrap_or_default();
            eprintln!("tessera: {}", first.trim_start_matches("error: "));
            return ExitCode::from(2);
        }
        Err(LoadError::File(reason)) => {
            eprintln!("tessera: {reason}");
            return ExitCode::from(2);
        }
    };
    let settings = cli.settings;
    if let Err(reason) = settings.validate() {
        eprintln!("tessera: {reason}");
        return ExitCode::from(2);
    }
    telemetry::init_logging(&settings);
    telemetry::log_panics();
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => app::serve(settings),
        Command::Migrate => app::migrate(&settings),
        Command::Import(ImportCommand::Keyrock(args)) => import::keyrock(&settings, &args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(reason) => {
            eprintln!("tessera: {reason}");
            ExitCode::FAILURE
        }
    }
}
