//! Real nginx and PgBouncer processes for the deployment tests, configured from `deploy/` on loopback
//! with random ports, each in its own temporary directory, killed when dropped.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::node::free_port;

pub fn deploy_file(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("deploy")
        .join(rel)
}

/// A system binary that may live in an sbin directory outside a non-root PATH.
pub fn tool(name: &str) -> String {
    for dir in ["/usr/sbin", "/usr/bin", "/sbin", "/usr/local/bin"] {
        let p = Path::new(dir).join(name);
        if p.exists() {
            return p.to_string_lossy().into_owned();
        }
    }
    panic!("{name} is not installed: run scripts/install-deploy-tools.sh")
}

pub struct Daemon {
    child: Child,
    pub port: u16,
    /// Configuration, logs and temporary files; removed with the daemon.
    _dir: tempfile::TempDir,
    log: PathBuf,
}

impl Daemon {
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn wait_listening(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(15);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("daemon exited ({status}):\n{}", self.log());
            }
            assert!(
                Instant::now() < deadline,
                "daemon not listening:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A directory the daemons' unprivileged workers can use (nginx workers and PgBouncer run as
/// other users when the tests run as root).
fn open_dir() -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).expect("chmod");
    dir
}

/// nginx running `deploy/nginx/buko.conf` with its `BUKO-NODE` lines pointing at `nodes` (ports on
/// 127.0.0.1) and its `BUKO-LISTEN` line on a random loopback port; everything else unchanged.
pub fn nginx(nodes: &[u16]) -> Daemon {
    let site = std::fs::read_to_string(deploy_file("nginx/buko.conf")).expect("buko.conf");
    let port = free_port();
    let mut out = String::new();
    let (mut listens, mut node_lines) = (0, 0);
    for line in site.lines() {
        if line.contains("# BUKO-NODE") {
            node_lines += 1;
            // The first marked line of a block becomes one line per node; the others go.
            if node_lines % 2 == 1 {
                let (indent, rest) = line.split_at(line.find("server").expect("server line"));
                let options = rest
                    .split_whitespace()
                    .skip(2)
                    .take_while(|w| !w.starts_with('#'))
                    .collect::<Vec<_>>()
                    .join(" ");
                for p in nodes {
                    out.push_str(&format!("{indent}server 127.0.0.1:{p} {options}\n"));
                }
            }
        } else if line.contains("# BUKO-LISTEN") {
            listens += 1;
            out.push_str(&format!("    listen 127.0.0.1:{port};\n"));
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    assert_eq!(
        (listens, node_lines),
        (1, 4),
        "the markers of deploy/nginx/buko.conf moved"
    );
    let dir = open_dir();
    let d = dir.path().display();
    std::fs::write(dir.path().join("buko.conf"), out).expect("site");
    let main = format!(
        "worker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/error.log info;\ndaemon off;\n\
         events {{ worker_connections 1024; }}\n\
         http {{\n  access_log {d}/access.log;\n  client_body_temp_path {d}/body;\n\
         proxy_temp_path {d}/proxy;\n  fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n\
         scgi_temp_path {d}/scgi;\n  include {d}/buko.conf;\n}}\n"
    );
    let conf = dir.path().join("nginx.conf");
    std::fs::write(&conf, main).expect("nginx.conf");
    let nginx = tool("nginx");
    let checked = Command::new(&nginx)
        .args(["-t", "-q", "-p"])
        .arg(dir.path())
        .arg("-c")
        .arg(&conf)
        .output()
        .expect("nginx -t");
    assert!(
        checked.status.success(),
        "nginx -t rejects the config: {}",
        String::from_utf8_lossy(&checked.stderr)
    );
    let log = dir.path().join("error.log");
    let child = Command::new(&nginx)
        .arg("-p")
        .arg(dir.path())
        .arg("-c")
        .arg(&conf)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("nginx");
    let mut d = Daemon {
        child,
        port,
        _dir: dir,
        log,
    };
    d.wait_listening();
    d
}

/// PgBouncer running `deploy/pgbouncer/pgbouncer.ini` with only the listening address, the test
/// database and trust authentication overridden. `pool_size` overrides `default_pool_size`.
pub fn pgbouncer(database_url: &str, pool_size: Option<u32>) -> Daemon {
    let (server, db) = database_url
        .trim_start_matches("postgres://")
        .split_once('/')
        .expect("url with a database");
    let (user, hostport) = server.split_once('@').expect("user@host");
    let (host, pg_port) = hostport.split_once(':').unwrap_or((hostport, "5432"));
    let port = free_port();
    let dir = open_dir();
    let d = dir.path().display();
    std::fs::write(
        dir.path().join("userlist.txt"),
        format!("\"{user}\" \"\"\n"),
    )
    .expect("users");
    // The deploy file as it is, but for its database line, with the loopback address and trust
    // authentication appended (the file ends in its [pgbouncer] section; the last value wins).
    let base = std::fs::read_to_string(deploy_file("pgbouncer/pgbouncer.ini")).expect("ini");
    let database_line = base
        .lines()
        .find(|l| l.starts_with("buko = "))
        .expect("the deploy file's database line");
    let mut ini = base.replace(
        database_line,
        &format!("{db} = host={host} port={pg_port} dbname={db}"),
    );
    ini.push_str(&format!(
        "\n;; tests\nlisten_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\nauth_type = trust\n\
         auth_file = {d}/userlist.txt\nlogfile = {d}/pgbouncer.log\npidfile = {d}/pgbouncer.pid\n\
         admin_users = {user}\n"
    ));
    if let Some(n) = pool_size {
        ini.push_str(&format!("default_pool_size = {n}\nreserve_pool_size = 0\n"));
    }
    let conf = dir.path().join("pgbouncer.ini");
    std::fs::write(&conf, ini).expect("ini");
    let mut cmd = Command::new(tool("pgbouncer"));
    // PgBouncer refuses to run as root; the PostgreSQL package's user is there wherever it is.
    if is_root() {
        cmd.args(["-u", "postgres"]);
    }
    let child = cmd
        .arg(&conf)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("pgbouncer");
    let mut d = Daemon {
        child,
        port,
        log: dir.path().join("pgbouncer.log"),
        _dir: dir,
    };
    d.wait_listening();
    d
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Runs a query on PgBouncer's admin console (simple protocol only, hence psql).
pub fn pgbouncer_admin(port: u16, user: &str, query: &str) -> String {
    let out = Command::new("psql")
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-U",
            user,
            "-d",
            "pgbouncer",
            "-Atc",
            query,
        ])
        .output()
        .expect("psql");
    assert!(
        out.status.success(),
        "psql: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}
