//! `tessera`: the Tessera identity and access server.

mod app;
mod bootstrap;
mod db;
mod easydb;
mod hexoskin;
mod http;
mod import;
mod keyrock;
mod kheops;
mod mail;
mod ops;
mod rights_cli;
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
            // One line, like every other bad setting: clap's first paragraph (a missing
            // argument is named on the lines after the first), folded.
            let text = e.to_string();
            let paragraph: Vec<&str> = text
                .lines()
                .take_while(|l| !l.trim().is_empty())
                .map(str::trim)
                .collect();
            eprintln!(
                "tessera: {}",
                paragraph.join(" ").trim_start_matches("error: ")
            );
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
        Command::Rights(command) => rights_cli::run(&settings, &command),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(reason) => {
            eprintln!("tessera: {reason}");
            ExitCode::FAILURE
        }
    }
}
