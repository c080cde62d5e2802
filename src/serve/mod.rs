//! `pimfeed serve`: a live preview of the catalog in the browser. The build runs as always
//! (blocking, on its own thread, rebuilt on every save); each build is indexed (see
//! [`index`]) and the pages are rendered from that index on request, so a page never holds or
//! ships the whole catalog. Open pages learn of each build over server-sent events and
//! refresh themselves.

mod erp_numbers;
pub mod index;
pub mod memory;
mod pages;
pub mod preview;
mod report_view;
mod verdicts;

use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use axum::Router;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use tokio::sync::broadcast;

use crate::report::html::Links;
use index::Index;

/// What the pages show: the last good build, and whether the newest one failed.
pub struct View {
    /// Counts builds, good or failed; pages carry it so a test (or a person) can tell a page
    /// was refreshed.
    pub generation: u64,
    pub index: Option<Arc<Index>>,
    /// Why the last build failed (a bad pim.toml, an ERP that cannot be read, a template
    /// error), as a person reads it.
    pub problem: Option<String>,
    pub building: bool,
}

/// What the server and the build thread share.
pub struct Shared {
    pub root: PathBuf,
    pub links: Links,
    pages: pages::Pages,
    view: RwLock<Arc<View>>,
    events: broadcast::Sender<&'static str>,
}

impl Shared {
    /// The server's state for the catalog at `root`; fails when a page template does not
    /// compile.
    pub fn new(root: PathBuf, editor: &str) -> Result<Arc<Shared>, String> {
        let links = Links {
            product: "/products/".to_string(),
            feed: "/feeds/".to_string(),
            source: editor.to_string(),
            root: root.display().to_string(),
        };
        let pages = pages::Pages::new(&links).map_err(|err| {
            format!(
                "a page template has an error: {}",
                crate::diagnostics::error_chain(&err)
            )
        })?;
        let (events, _) = broadcast::channel(16);
        Ok(Arc::new(Shared {
            root,
            links,
            pages,
            view: RwLock::new(Arc::new(View {
                generation: 0,
                index: None,
                problem: None,
                building: true,
            })),
            events,
        }))
    }

    pub fn view(&self) -> Arc<View> {
        self.view
            .read()
            .map(|view| view.clone())
            .unwrap_or_else(|poisoned| poisoned.into_inner().clone())
    }

    /// The last good build, to index the next one against.
    pub fn index(&self) -> Option<Arc<Index>> {
        self.view().index.clone()
    }

    fn update(&self, change: impl FnOnce(&View) -> View) {
        let mut view = self.view.write().unwrap_or_else(|p| p.into_inner());
        let next = change(&view);
        *view = Arc::new(next);
    }

    /// A build started.
    pub fn building(&self) {
        self.update(|view| View {
            generation: view.generation,
            index: view.index.clone(),
            problem: view.problem.clone(),
            building: true,
        });
        let _ = self.events.send("building");
    }

    /// A build finished and was indexed.
    pub fn built(&self, index: Index) {
        self.update(|view| View {
            generation: view.generation + 1,
            index: Some(Arc::new(index)),
            problem: None,
            building: false,
        });
        let _ = self.events.send("built");
    }

    /// A build failed; the pages keep showing the last good one, with the reason.
    pub fn failed(&self, problem: String) {
        self.update(|view| View {
            generation: view.generation + 1,
            index: view.index.clone(),
            problem: Some(problem),
            building: false,
        });
        let _ = self.events.send("built");
    }
}

/// Serves the pages on `listener` until the process ends.
pub async fn serve(shared: Arc<Shared>, listener: std::net::TcpListener) -> std::io::Result<()> {
    listener.set_nonblocking(true)?;
    let listener = tokio::net::TcpListener::from_std(listener)?;
    let app = Router::new()
        .route("/", get(pages::home))
        .route("/products", get(pages::products))
        .route("/products/{sku}", get(pages::product))
        .route("/feeds", get(pages::feeds))
        .route("/feeds/{*file}", get(pages::feed_file))
        .route("/report", get(pages::report))
        .route("/events", get(events))
        .fallback(pages::not_found)
        .with_state(shared);
    axum::serve(listener, app).await
}

/// Server-sent events: `building` when a build starts, `built` when its pages are ready.
async fn events(
    axum::extract::State(shared): axum::extract::State<Arc<Shared>>,
) -> Sse<impl futures_util::Stream<Item = Result<Event, std::convert::Infallible>>> {
    let receiver = shared.events.subscribe();
    let stream = futures_util::stream::unfold(receiver, |mut receiver| async move {
        loop {
            match receiver.recv().await {
                Ok(name) => return Some((Ok(Event::default().event(name).data(name)), receiver)),
                // A page that fell behind only needs the latest news.
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}
