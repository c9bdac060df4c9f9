//! `tessera`: the Tessera identity and access server.

mod app;
mod bootstrap;
mod db;
mod keyrock;
mod ops;
mod settings;
mod telemetry;

use std::process::ExitCode;

use clap::Parser;

use settings::{Cli, Command};

fn main() -> ExitCode {
    if let Err(reason) = settings::load_config_file() {
        eprintln!("tessera: {reason}");
        return ExitCode::from(2);
    }
    let cli = Cli::parse();
    let settings = cli.settings;
    if let Err(reason) = settings.validate() {
        eprintln!("tessera: {reason}");
        return ExitCode::from(2);
    }
    telemetry::init_logging(&settings);
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => app::serve(settings),
        Command::Migrate => app::migrate(&settings),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(reason) => {
            eprintln!("tessera: {reason}");
            ExitCode::FAILURE
        }
    }
}
