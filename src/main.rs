//! The `buko` binary: parse the command line and hand over to the library.

use clap::Parser;

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    buko::cli::run(buko::cli::Cli::parse()).await
}
