//! Boots a BitTensor testnet chain for `scripts/run-testnet --producers P`: P producers
//! running `eosio.system`, the contract, and N metered, funded worker accounts
//! ([`localnet::Testnet`]). Writes what the workers need (each one's endpoint list, its own
//! producer's first) as JSON to `--out`, then keeps the chain running until its standard
//! input closes (the script holds it open, so the chain also stops if the script dies),
//! and stops every node.
//!
//! Usage: localnet-testnet --producers P --workers N --out FILE [--http-host IP]

use std::io::Read;
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use localnet::{Testnet, TestnetSpec};
use serde_json::json;

const USAGE: &str = "usage: localnet-testnet --producers P --workers N --out FILE [--http-host IP]";

#[derive(Debug)]
struct Args {
    producers: usize,
    workers: usize,
    out: PathBuf,
    http_host: IpAddr,
}

fn parse(argv: &[String]) -> Result<Args, String> {
    let mut producers = None;
    let mut workers = None;
    let mut out = None;
    let mut http_host: IpAddr = [127, 0, 0, 1].into();
    let mut it = argv.iter();
    while let Some(flag) = it.next() {
        let mut value = || {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))
        };
        match flag.as_str() {
            "--producers" => producers = Some(number(flag, &value()?)?),
            "--workers" => workers = Some(number(flag, &value()?)?),
            "--out" => out = Some(PathBuf::from(value()?)),
            "--http-host" => {
                let text = value()?;
                http_host = text
                    .parse()
                    .map_err(|_| format!("--http-host {text:?} is not an IP address"))?;
            }
            "-h" | "--help" => return Err(USAGE.to_string()),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    Ok(Args {
        producers: producers.ok_or_else(|| format!("--producers is required\n{USAGE}"))?,
        workers: workers.ok_or_else(|| format!("--workers is required\n{USAGE}"))?,
        out: out.ok_or_else(|| format!("--out is required\n{USAGE}"))?,
        http_host,
    })
}

fn number(flag: &str, text: &str) -> Result<usize, String> {
    text.parse()
        .map_err(|_| format!("{flag} {text:?} is not a whole number"))
}

fn run(args: &Args) -> Result<(), String> {
    let spec = TestnetSpec {
        http_host: args.http_host,
        ..TestnetSpec::new(args.producers, args.workers)
    };
    let testnet = Testnet::boot(&spec).map_err(|e| e.to_string())?;
    let urls = testnet.cluster.urls();
    let doc = json!({
        "contract": testnet.contract,
        "dir": testnet.cluster.genesis.dir().display().to_string(),
        "producers": testnet.cluster.producers().iter().zip(&urls)
            .map(|(name, url)| json!({ "name": name, "url": url }))
            .collect::<Vec<_>>(),
        "workers": testnet.workers.iter()
            .map(|w| json!({ "account": w.account, "home": w.home, "endpoints": w.endpoints }))
            .collect::<Vec<_>>(),
    });
    // Written whole, then renamed: a reader never sees half a file.
    let tmp = args.out.with_extension("tmp");
    std::fs::write(&tmp, format!("{doc:#}\n"))
        .and_then(|()| std::fs::rename(&tmp, &args.out))
        .map_err(|e| format!("writing {}: {e}", args.out.display()))?;
    eprintln!(
        "[localnet] testnet ready: {} producers at {}; logs under {}",
        urls.len(),
        urls.join(", "),
        testnet.cluster.genesis.dir().display()
    );
    // Held until the caller closes our standard input (or exits).
    let mut sink = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut sink);
    eprintln!("[localnet] stopping the testnet chain");
    drop(testnet);
    Ok(())
}

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let result = parse(&argv).and_then(|args| run(&args));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            localnet::yield_to_signal_guard();
            eprintln!("localnet-testnet: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Result<Args, String> {
        parse(&s.split_whitespace().map(str::to_string).collect::<Vec<_>>())
    }

    #[test]
    fn arguments_parse_strictly() {
        let a = args("--producers 4 --workers 3 --out x.json --http-host 169.254.77.1").unwrap();
        assert_eq!((a.producers, a.workers), (4, 3));
        assert_eq!(a.http_host, "169.254.77.1".parse::<IpAddr>().unwrap());
        let a = args("--producers 4 --workers 3 --out x.json").unwrap();
        assert!(a.http_host.is_loopback());
        assert!(args("--producers 4 --out x")
            .unwrap_err()
            .contains("--workers"));
        assert!(args("--producers four --workers 3 --out x")
            .unwrap_err()
            .contains("whole number"));
        assert!(args("--producers 4 --workers 3 --out x --http-host host").is_err());
        assert!(args("--producers 4 --workers 3 --out x --bogus")
            .unwrap_err()
            .contains("unknown"));
        assert!(args("--producers").unwrap_err().contains("needs a value"));
    }
}
