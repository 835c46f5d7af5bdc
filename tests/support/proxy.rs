//! A TCP listener in front of a real server that starts silent (it accepts connections and
//! never writes a byte, as a hung server does) and can be switched to forward new connections
//! to the server. Connections accepted while silent stay silent.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::net::{TcpListener, TcpStream};

pub struct SwitchableProxy {
    pub port: u16,
    forwarding: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for SwitchableProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl SwitchableProxy {
    /// A silent listener on a free loopback port, which forwards to `target` once told to.
    pub async fn silent_in_front_of(target_host: &str, target_port: u16) -> SwitchableProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("address").port();
        let forwarding = Arc::new(AtomicBool::new(false));
        let target = (target_host.to_string(), target_port);
        let switch = forwarding.clone();
        let task = tokio::spawn(async move {
            let mut held = tokio::task::JoinSet::new();
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    return;
                };
                if switch.load(Ordering::SeqCst) {
                    let target = target.clone();
                    held.spawn(async move {
                        if let Ok(mut server) =
                            TcpStream::connect((target.0.as_str(), target.1)).await
                        {
                            let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                        }
                    });
                } else {
                    // Kept open, never answered; the proxy's end closes it.
                    held.spawn(async move {
                        let _keep = client;
                        std::future::pending::<()>().await;
                    });
                }
            }
        });
        SwitchableProxy {
            port,
            forwarding,
            task,
        }
    }

    /// From now on, new connections reach the real server.
    pub fn forward(&self) {
        self.forwarding.store(true, Ordering::SeqCst);
    }
}
