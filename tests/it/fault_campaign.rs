//! A fault campaign: a thousand mixed storage operations through a proxy that faults about
//! one connection in ten at random (resets before the reply and while the request body
//! arrives, bursts of 500/503, replies cut short, replies stalled past the read timeout),
//! and that lies: a quarter of ranged reads get another range than asked or the whole
//! object, a quarter of listings continuation tokens that cycle.
//!
//! Four lanes run at once, each on its own names (so that each lane's model of what may be
//! stored is exact), with a seeded random mix of: saves of small and multipart-sized
//! bodies, writes through `S3File`, open + read + seek, listdir, exists, delete, and
//! collectstatic of a small tree. Every operation either succeeds with the right result or
//! fails with a typed error of a transport kind; a failed write leaves the old or the new
//! content, never a mix. Afterwards, with faults off, every object is checked byte for
//! byte against what may be there, no object outside the model exists, and no multipart
//! upload is left open. The counts are printed.
//!
//! `FAULT_CAMPAIGN_OPS` and `FAULT_CAMPAIGN_SEED` change the size and the seed; against an
//! external server (`STORAGES_S3_TEST_ENDPOINT`) the default size is 200 operations.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::common::proxy::{Chaos, FaultProxy};
use crate::common::{Bed, Style, unique_bucket};
use storages_s3::collect::{CollectOptions, Event, collect};
use storages_s3::{Error, ErrorKind, S3Storage};
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

const KIB: usize = 1024;
const MIB: usize = 1024 * 1024;
const LANES: usize = 4;
/// Names per lane under `files/`.
const POOL: usize = 10;
/// Files of the lane's static tree.
const TREE: &[&str] = &[
    "static/app.css",
    "static/js/app.js",
    "static/img/logo.svg",
    "static/robots.txt",
];

type Blob = Arc<Vec<u8>>;

/// What a name may hold now: each entry a possible state (`None`: absent).
#[derive(Default)]
struct Model {
    states: BTreeMap<String, Vec<Option<Blob>>>,
}

impl Model {
    fn possible(&self, name: &str) -> &[Option<Blob>] {
        self.states.get(name).map(Vec::as_slice).unwrap_or(&[None])
    }

    /// The operation succeeded: the name holds exactly this.
    fn set(&mut self, name: &str, state: Option<Blob>) {
        self.states.insert(name.to_owned(), vec![state]);
    }

    /// The operation failed: the name holds what it held before, or this.
    fn maybe(&mut self, name: &str, state: Option<Blob>) {
        let states = self.states.entry(name.to_owned()).or_insert_with(|| vec![None]);
        if !states.iter().any(|s| same(s, &state)) {
            states.push(state);
        }
    }

    /// Observed: the name holds `found` (checked to be possible first).
    fn observe(&mut self, name: &str, found: Option<&[u8]>) -> Result<(), String> {
        let possible = self.possible(name);
        let hit = possible
            .iter()
            .find(|s| s.as_deref().map(Vec::as_slice) == found)
            .cloned();
        match hit {
            Some(state) => {
                self.set(name, state);
                Ok(())
            }
            None => Err(format!(
                "{name}: found {}, possible: {}",
                describe(found),
                possible
                    .iter()
                    .map(|s| describe(s.as_deref().map(Vec::as_slice)))
                    .collect::<Vec<_>>()
                    .join(" | ")
            )),
        }
    }
}

fn same(a: &Option<Blob>, b: &Option<Blob>) -> bool {
    a.as_deref() == b.as_deref()
}

fn describe(state: Option<&[u8]>) -> String {
    match state {
        None => "absent".into(),
        Some(b) => format!("{} bytes (md5 {})", b.len(), &storages_s3::manifest::file_hash(b)),
    }
}

#[derive(Default, Debug)]
struct Tally {
    ops: BTreeMap<&'static str, usize>,
    failed: BTreeMap<&'static str, usize>,
    error_kinds: BTreeMap<String, usize>,
    /// A few of the errors, as users would see them.
    samples: Vec<String>,
    /// Every failed operation on a name: `(key, "operation: error")`, to name what left an
    /// upload open.
    failures: Vec<(String, String)>,
    /// Broken promises: wrong content, untyped errors.
    violations: Vec<String>,
}

impl Tally {
    fn merge(&mut self, other: Tally) {
        for (k, v) in other.ops {
            *self.ops.entry(k).or_default() += v;
        }
        for (k, v) in other.failed {
            *self.failed.entry(k).or_default() += v;
        }
        for (k, v) in other.error_kinds {
            *self.error_kinds.entry(k).or_default() += v;
        }
        self.violations.extend(other.violations);
        self.samples.extend(other.samples);
        self.failures.extend(other.failures);
    }
}

struct Lane {
    id: usize,
    storage: S3Storage,
    secret: String,
    rng: fastrand::Rng,
    model: Model,
    tally: Tally,
    tree: tempfile::TempDir,
}

impl Lane {
    /// A failed operation: its error must be of a kind faults cause, say what it did, and
    /// never show the secret key.
    fn failed(&mut self, op: &'static str, e: &Error) {
        if let Some(key) = e.key() {
            self.tally.failures.push((key.to_owned(), format!("{op}: {e}")));
        }
        *self.tally.failed.entry(op).or_default() += 1;
        *self.tally.error_kinds.entry(format!("{:?}", e.kind())).or_default() += 1;
        let shown = format!("{e} {e:?}");
        if self.tally.samples.len() < 2 {
            self.tally.samples.push(format!("{op}: {e}"));
        }
        if !matches!(
            e.kind(),
            ErrorKind::Transport | ErrorKind::Timeout | ErrorKind::Service | ErrorKind::InvalidResponse
        ) {
            self.tally.violations.push(format!(
                "lane {} {op}: unexpected error kind {:?}: {e}",
                self.id,
                e.kind()
            ));
        }
        if e.to_string().is_empty() || shown.contains(&self.secret) {
            self.tally.violations.push(format!(
                "lane {} {op}: error message empty or shows the secret",
                self.id
            ));
        }
    }

    fn violation(&mut self, message: String) {
        self.tally.violations.push(format!("lane {}: {message}", self.id));
    }

    fn pick_name(&mut self) -> String {
        format!("files/n{}.bin", self.rng.usize(0..POOL))
    }

    fn blob(&mut self, len: usize) -> Blob {
        let mut v = vec![0u8; len];
        self.rng.fill(&mut v);
        Arc::new(v)
    }

    async fn step(&mut self) {
        let roll = self.rng.u32(0..100);
        match roll {
            0..35 => {
                let len = self.rng.usize(0..64 * KIB);
                self.save("save small", len).await
            }
            35..40 => {
                let len = self.rng.usize(5 * MIB + 1..9 * MIB);
                self.save("save multipart", len).await
            }
            40..45 => self.write_file().await,
            45..70 => self.read_and_seek().await,
            70..80 => self.listdir().await,
            80..90 => self.delete().await,
            90..95 => self.exists().await,
            _ => self.collectstatic().await,
        }
    }

    async fn save(&mut self, op: &'static str, len: usize) {
        *self.tally.ops.entry(op).or_default() += 1;
        let name = self.pick_name();
        let blob = self.blob(len);
        match self.storage.save(&name, blob.to_vec(), None).await {
            Ok(saved) if saved == name => self.model.set(&name, Some(blob)),
            Ok(saved) => self.violation(format!("{op} of {name} stored {saved}")),
            Err(e) => {
                self.failed(op, &e);
                self.model.maybe(&name, Some(blob));
            }
        }
    }

    /// Writes through `S3File` in pieces: one part or several (`file_buffer_size` 5 MiB).
    async fn write_file(&mut self) {
        let op = "write S3File";
        *self.tally.ops.entry(op).or_default() += 1;
        let name = self.pick_name();
        let len = if self.rng.bool() {
            self.rng.usize(0..256 * KIB)
        } else {
            self.rng.usize(5 * MIB..8 * MIB)
        };
        let blob = self.blob(len);
        let result = async {
            let mut file = self.storage.open(&name, "wb").await?;
            for piece in blob.chunks(700 * KIB) {
                file.write_all(piece).await.map_err(Error::from)?;
            }
            file.close().await
        }
        .await;
        match result {
            Ok(()) => self.model.set(&name, Some(blob)),
            Err(e) => {
                self.failed(op, &e);
                self.model.maybe(&name, Some(blob));
            }
        }
    }

    async fn read_and_seek(&mut self) {
        let op = "open+read+seek";
        *self.tally.ops.entry(op).or_default() += 1;
        let name = self.pick_name();
        let offset_pick = self.rng.f64();
        let result = async {
            let mut file = self.storage.open(&name, "rb").await?;
            let mut all = Vec::new();
            file.read_to_end(&mut all).await.map_err(Error::from)?;
            let offset = (all.len() as f64 * offset_pick) as u64;
            file.seek(std::io::SeekFrom::Start(offset)).await.map_err(Error::from)?;
            let mut rest = Vec::new();
            file.read_to_end(&mut rest).await.map_err(Error::from)?;
            Ok::<_, Error>((all, offset, rest))
        }
        .await;
        match result {
            Ok((all, offset, rest)) => {
                if rest != all[offset as usize..] {
                    self.violation(format!("{name}: after seek to {offset} the rest differs"));
                }
                if let Err(m) = self.model.observe(&name, Some(&all)) {
                    self.violation(m);
                }
            }
            Err(e) if e.is_not_found() => {
                if let Err(m) = self.model.observe(&name, None) {
                    self.violation(m);
                }
            }
            Err(e) => self.failed(op, &e),
        }
    }

    async fn listdir(&mut self) {
        let op = "listdir";
        *self.tally.ops.entry(op).or_default() += 1;
        match self.storage.listdir("files").await {
            Ok((dirs, files)) => {
                if !dirs.is_empty() {
                    self.violation(format!("listdir found directories {dirs:?}"));
                }
                for i in 0..POOL {
                    let name = format!("files/n{i}.bin");
                    let listed = files.iter().any(|f| *f == format!("n{i}.bin"));
                    let possible = self.model.possible(&name);
                    let ok = if listed {
                        possible.iter().any(Option::is_some)
                    } else {
                        possible.iter().any(Option::is_none)
                    };
                    if !ok {
                        self.violation(format!("listdir: {name} listed = {listed}, against the model"));
                    } else if !listed {
                        self.model.set(&name, None);
                    }
                }
                for f in &files {
                    if !(0..POOL).any(|i| *f == format!("n{i}.bin")) {
                        self.violation(format!("listdir: unknown file {f}"));
                    }
                }
            }
            Err(e) => self.failed(op, &e),
        }
    }

    async fn delete(&mut self) {
        let op = "delete";
        *self.tally.ops.entry(op).or_default() += 1;
        let name = self.pick_name();
        match self.storage.delete(&name).await {
            Ok(()) => self.model.set(&name, None),
            Err(e) => {
                self.failed(op, &e);
                self.model.maybe(&name, None);
            }
        }
    }

    async fn exists(&mut self) {
        let op = "exists";
        *self.tally.ops.entry(op).or_default() += 1;
        let name = self.pick_name();
        match self.storage.exists(&name).await {
            Ok(true) => {
                let states: Vec<_> = self
                    .model
                    .possible(&name)
                    .iter()
                    .filter(|s| s.is_some())
                    .cloned()
                    .collect();
                if states.is_empty() {
                    self.violation(format!("exists: {name} exists against the model"));
                } else {
                    self.model.states.insert(name, states);
                }
            }
            Ok(false) => {
                if let Err(m) = self.model.observe(&name, None) {
                    self.violation(m);
                }
            }
            Err(e) => self.failed(op, &e),
        }
    }

    /// Changes one or two files of the lane's tree, then collects it.
    async fn collectstatic(&mut self) {
        let op = "collectstatic";
        *self.tally.ops.entry(op).or_default() += 1;
        for _ in 0..self.rng.usize(1..=2) {
            let file = TREE[self.rng.usize(0..TREE.len())];
            let len = self.rng.usize(1..48 * KIB);
            let blob = self.blob(len);
            std::fs::write(self.tree.path().join(file), blob.as_slice()).unwrap();
        }
        let mut options = CollectOptions::default();
        options.jobs = 3;
        let result = collect(
            &self.storage,
            &[self.tree.path().into()],
            &options,
            Arc::new(|_: &Event| {}),
        )
        .await;
        for file in TREE {
            let blob = Arc::new(std::fs::read(self.tree.path().join(file)).unwrap());
            match &result {
                Ok(_) => self.model.set(file, Some(blob)),
                Err(_) => self.model.maybe(file, Some(blob)),
            }
        }
        if let Err(e) = result {
            self.failed(op, &e);
        }
    }
}

fn write_tree(root: &Path, rng: &mut fastrand::Rng) {
    for file in TREE {
        let path = root.join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let mut content = vec![0u8; rng.usize(1..16 * KIB)];
        rng.fill(&mut content);
        std::fs::write(path, content).unwrap();
    }
}

fn options(bed: &Bed, bucket: &str, endpoint: &str, lane: usize) -> HashMap<String, String> {
    let mut o = bed.options(bucket, Style::Path);
    o.insert("endpoint_url".into(), endpoint.to_owned());
    o.insert("location".into(), format!("lane{lane}"));
    // Three attempts, as AWS SDKs default to: bursts of 5xx can exhaust them, so some
    // operations fail, and must fail cleanly.
    o.insert("max_attempts".into(), "3".into());
    o.insert("read_timeout".into(), "1".into());
    o.insert("connect_timeout".into(), "2".into());
    // 5 MiB parts: multipart-sized bodies are two parts, enough to fault between them.
    o.insert(
        "transfer_config".into(),
        format!(
            r#"{{"multipart_threshold": {}, "multipart_chunksize": {}}}"#,
            5 * MIB,
            5 * MIB
        ),
    );
    o
}

fn storage(options: HashMap<String, String>) -> S3Storage {
    S3Storage::builder().options(options).no_globals().build().unwrap()
}

fn env_number(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_operations_through_faults_lose_nothing() {
    let bed = Bed::new().await;
    let default_ops = if bed.server.is_some() { 1000 } else { 200 };
    let total_ops = env_number("FAULT_CAMPAIGN_OPS").unwrap_or(default_ops) as usize;
    let seed = env_number("FAULT_CAMPAIGN_SEED").unwrap_or(0x5eed_2026);
    let (report, problems) = campaign(&bed, seed, total_ops).await;
    println!("{report}");
    assert!(problems.is_empty(), "seed {seed:#x}:\n{}", problems.join("\n"));
}

/// Five campaigns at once, on five seeds, each beside the others' load (CI runs it:
/// `cargo test --test it -- --ignored five_campaigns`): no promise broken and no upload
/// left open in any.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "a minute of load; CI runs it"]
async fn five_campaigns_at_once_lose_nothing() {
    let bed = Bed::new().await;
    let default_ops = if bed.server.is_some() { 1000 } else { 200 };
    let total_ops = env_number("FAULT_CAMPAIGN_OPS").unwrap_or(default_ops) as usize;
    let first = env_number("FAULT_CAMPAIGN_SEED").unwrap_or(0x5eed_2026);
    let runs = (0..5u64).map(|i| {
        let bed = &bed;
        async move { (first + i, campaign(bed, first + i, total_ops).await) }
    });
    let mut failed = Vec::new();
    for (seed, (report, problems)) in futures_join_all(runs).await {
        println!("{report}");
        if !problems.is_empty() {
            failed.push(format!("seed {seed:#x}:\n{}", problems.join("\n")));
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n\n"));
}

/// Runs futures at once, in order of the inputs.
async fn futures_join_all<F: std::future::Future>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output> {
    let mut pinned: Vec<_> = futures.into_iter().map(Box::pin).collect();
    let mut out: Vec<Option<F::Output>> = pinned.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (slot, fut) in out.iter_mut().zip(pinned.iter_mut()) {
            if slot.is_none() {
                match fut.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => *slot = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    out.into_iter().map(|o| o.expect("ready")).collect()
}

/// One campaign: its printed report, and the promises it found broken.
async fn campaign(bed: &Bed, seed: u64, total_ops: usize) -> (String, Vec<String>) {
    let proxy = FaultProxy::start(bed.addr).await;
    let bucket = unique_bucket("campaign");
    let direct = storage(options(
        bed,
        &bucket,
        &format!("http://{}:{}", bed.endpoint_host, bed.port),
        0,
    ));
    direct.client().create_bucket().await.unwrap();

    let mut seeder = fastrand::Rng::with_seed(seed);
    let mut lanes = Vec::new();
    for id in 0..LANES {
        let tree = tempfile::tempdir().unwrap();
        write_tree(tree.path(), &mut seeder);
        lanes.push(Lane {
            id,
            storage: storage(options(bed, &bucket, &format!("http://{}", proxy.addr), id)),
            secret: bed.secret_key.clone(),
            rng: fastrand::Rng::with_seed(seeder.u64(..)),
            model: Model::default(),
            tally: Tally::default(),
            tree,
        });
    }

    // Lies: ranged reads get another range or the whole object, listings cycling tokens.
    let origin_client = direct.client().clone();
    let prefix = format!("/{bucket}/");
    proxy.set_origin(Arc::new(move |path: String| {
        let client = origin_client.clone();
        let key = path
            .split('?')
            .next()
            .and_then(|p| p.strip_prefix(&prefix))
            .map(|k| percent_encoding::percent_decode_str(k).decode_utf8_lossy().into_owned());
        Box::pin(async move {
            let got = client.get_object(&key?, None).await.ok()?;
            let etag = got.head.etag.clone()?;
            Some((etag, got.body.collect(64 * MIB).await.ok()?.to_vec()))
        })
    }));
    proxy.set_chaos(Some(Chaos {
        rate: 0.08,
        stall: Duration::from_millis(1500),
        seed: seeder.u64(..),
        lies: 0.25,
    }));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for (i, mut lane) in lanes.into_iter().enumerate() {
        let ops = total_ops / LANES + usize::from(i < total_ops % LANES);
        tasks.spawn(async move {
            for _ in 0..ops {
                lane.step().await;
            }
            lane
        });
    }
    let mut lanes: Vec<Lane> = tasks.join_all().await;
    lanes.sort_by_key(|l| l.id);
    let elapsed = started.elapsed();
    let (faults, connections) = proxy.fault_counts();
    // Files dropped unclosed abort their uploads in the background: wait for those answers
    // (as the CLI does on Ctrl-C) before counting what is left open.
    for lane in &lanes {
        tokio::time::timeout(Duration::from_secs(60), lane.storage.client().uploads_settled())
            .await
            .expect("background aborts settle");
    }
    proxy.set_chaos(None);

    // Afterwards, without faults: every object is what was written or absent.
    let mut tally = Tally::default();
    let mut retries = 0;
    for lane in &mut lanes {
        retries += lane.storage.client().retries();
        let check = storage(options(
            bed,
            &bucket,
            &format!("http://{}:{}", bed.endpoint_host, bed.port),
            lane.id,
        ));
        let names: Vec<String> = lane.model.states.keys().cloned().collect();
        for name in names {
            let found = match check.open(&name, "rb").await {
                Ok(mut f) => {
                    let mut bytes = Vec::new();
                    f.read_to_end(&mut bytes).await.unwrap();
                    Some(bytes)
                }
                Err(e) if e.is_not_found() => None,
                Err(e) => panic!("{name}: {e}"),
            };
            if let Err(m) = lane.model.observe(&name, found.as_deref()) {
                lane.violation(format!("final check: {m}"));
            }
        }
        tally.merge(std::mem::take(&mut lane.tally));
    }
    let (objects, _) = direct
        .client()
        .list_objects(Default::default())
        .collect_all()
        .await
        .unwrap();
    for object in &objects {
        let known = lanes.iter().any(|l| {
            object
                .key
                .strip_prefix(&format!("lane{}/", l.id))
                .is_some_and(|name| l.model.states.contains_key(name))
        });
        if !known {
            tally.violations.push(format!("stray object {}", object.key));
        }
    }
    let uploads = bed.open_uploads(direct.client()).await;

    let faulted: usize = faults.values().sum();
    let mut report = String::new();
    use std::fmt::Write as _;
    let _ = writeln!(
        report,
        "fault campaign, seed {seed:#x}: {total_ops} operations in {:.1} s",
        elapsed.as_secs_f64()
    );
    let _ = writeln!(report, "  operations: {:?}", tally.ops);
    let _ = writeln!(
        report,
        "  connections: {connections}, faulted: {faulted} ({:.1}%): {faults:?}",
        100.0 * faulted as f64 / connections.max(1) as f64
    );
    let _ = writeln!(report, "  retries (and resumed downloads): {retries}");
    let _ = writeln!(
        report,
        "  failed operations: {} {:?}, by error kind {:?}",
        tally.failed.values().sum::<usize>(),
        tally.failed,
        tally.error_kinds
    );
    for sample in &tally.samples {
        let _ = writeln!(report, "    e.g. {sample}");
    }
    let unaborted: Vec<_> = lanes
        .iter()
        .flat_map(|l| l.storage.client().unaborted_uploads())
        .collect();
    let _ = write!(
        report,
        "  objects at the end: {}, open multipart uploads: {}, uploads the crate could not abort: {}",
        objects.len(),
        uploads.len(),
        unaborted.len()
    );

    let mut problems = Vec::new();
    if tally.ops.values().sum::<usize>() != total_ops {
        problems.push(format!("{:?} operations counted of {total_ops}", tally.ops));
    }
    if faulted == 0 {
        problems.push("the proxy injected no fault".into());
    }
    problems.extend(tally.violations.iter().map(|v| format!("broken promise: {v}")));
    // Each upload left open, with the operations that failed on its key and the requests
    // that concern it, each with the fault it met.
    let log = proxy.log();
    for upload in &uploads {
        let mut why = format!("multipart upload left open: {} ({})", upload.key, upload.upload_id);
        for (_, failure) in tally.failures.iter().filter(|(key, _)| *key == upload.key) {
            let _ = write!(why, "\n    failed: {failure}");
        }
        // Keys here need no percent-encoding: they read the same in request lines.
        for (line, fault) in log
            .iter()
            .filter(|(line, _)| line.contains(&upload.key) || line.contains(&upload.upload_id))
        {
            let _ = write!(why, "\n    request: {line} [{fault}]");
        }
        problems.push(why);
    }
    problems.extend(unaborted.iter().map(|u| format!("not aborted: {u:?}")));
    (report, problems)
}
