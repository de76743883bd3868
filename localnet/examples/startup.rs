//! Measures the harness itself: time to a producing localnet, and batched account creation
//! throughput. `cargo run -p localnet --release --example startup -- [accounts]`

use std::time::Instant;

use localnet::{Localnet, LocalnetError};

fn main() -> Result<(), LocalnetError> {
    let count: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1000);
    let t = Instant::now();
    let net = Localnet::start()?;
    let start = t.elapsed();
    println!("localnet start (nodeos producing, wallet ready): {start:.2?}");

    let names: Vec<String> = (0..count)
        .map(|i| {
            let mut v = i;
            let digits: String = (0..6)
                .map(|_| {
                    let c = char::from(b'1' + (v % 5) as u8);
                    v /= 5;
                    c
                })
                .collect();
            format!("acct{digits}")
        })
        .collect();
    let t = Instant::now();
    net.create_accounts(&names)?;
    let secs = t.elapsed().as_secs_f64();
    println!(
        "{count} accounts in {secs:.2} s = {:.0} accounts/s",
        count as f64 / secs
    );

    let t = Instant::now();
    for name in ["single1", "single2", "single3"] {
        net.create_account(name)?;
    }
    println!(
        "create_account via cleos: {:.0} ms each",
        t.elapsed().as_secs_f64() * 1000.0 / 3.0
    );
    let t = Instant::now();
    drop(net);
    println!("shutdown: {:.2?}", t.elapsed());
    Ok(())
}
