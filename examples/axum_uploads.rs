//! A small axum app that keeps user uploads in a storage: it lists the files of a folder
//! with links, takes uploads through the server (streamed into an `S3File` part by part,
//! never held whole in memory) and straight from the browser to S3 through a presigned POST
//! form, and deletes files.
//!
//! ```text
//! cargo run --example axum_uploads            # then open http://127.0.0.1:3000/
//! ```
//!
//! With `AWS_STORAGE_BUCKET_NAME` (and the usual `AWS_*` settings) it uses that bucket;
//! otherwise an embedded S3 server on 127.0.0.1.

#[allow(dead_code)]
#[path = "../tests/it/common/server.rs"]
mod server;

use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use http::StatusCode;
use storages_s3::S3Storage;
use storages_s3::s3::PostPolicy;
use tokio::io::AsyncWriteExt;

/// The folder of the storage that holds the uploads.
pub const FOLDER: &str = "uploads";

/// The app's routes over a storage. `public_url` is where the app itself is served, for the
/// browser to come back to after a direct upload.
pub fn router(storage: S3Storage, public_url: String) -> Router {
    Router::new()
        .route("/", get(index))
        // Bodies stream into the storage, so the only limit is what a user may upload.
        .route("/upload", post(upload).layer(DefaultBodyLimit::max(1 << 30)))
        .route("/delete/{*name}", post(delete))
        .with_state(AppState { storage, public_url })
}

#[derive(Clone)]
struct AppState {
    storage: S3Storage,
    public_url: String,
}

/// A failure shown to the user, with the storage's error text.
struct AppError(storages_s3::Error);

impl From<storages_s3::Error> for AppError {
    fn from(e: storages_s3::Error) -> Self {
        AppError(e)
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = if self.0.is_invalid_name() {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::BAD_GATEWAY
        };
        (status, format!("storage error: {}", self.0)).into_response()
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

async fn index(State(app): State<AppState>) -> Result<Html<String>, AppError> {
    let (_, files) = app.storage.listdir(FOLDER).await?;
    let mut rows = String::new();
    for file in &files {
        let name = format!("{FOLDER}/{file}");
        let url = app.storage.url(&name).await?;
        rows.push_str(&format!(
            "<li><a class=\"file\" href=\"{}\">{}</a> <form method=\"post\" action=\"/delete/{}\" style=\"display:inline\">\
             <button class=\"delete\">delete</button></form></li>\n",
            escape(&url),
            escape(file),
            escape(&name)
        ));
    }
    // The browser sends the file straight to S3: any name under the folder, up to 10 MiB,
    // then S3 sends it back here.
    let policy = PostPolicy::new()
        .expires_in(Duration::from_secs(600))
        .content_length_range(1, 10 << 20)
        .success_action_redirect(format!("{}/", app.public_url));
    let form = app
        .storage
        .presigned_post(&format!("{FOLDER}/${{filename}}"), &policy)
        .await?;
    let mut hidden = String::new();
    for (name, value) in &form.fields {
        hidden.push_str(&format!(
            "<input type=\"hidden\" name=\"{}\" value=\"{}\">\n",
            escape(name),
            escape(value)
        ));
    }
    Ok(Html(format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Uploads</title></head><body>\n\
         <h1>Uploads</h1>\n<ul id=\"files\">\n{rows}</ul>\n\
         <h2>Through the server</h2>\n\
         <form id=\"via-server\" method=\"post\" action=\"/upload\" enctype=\"multipart/form-data\">\
         <input type=\"file\" name=\"file\"><button>upload</button></form>\n\
         <h2>Straight to S3</h2>\n\
         <form id=\"direct\" method=\"post\" action=\"{}\" enctype=\"multipart/form-data\">\n{hidden}\
         <input type=\"file\" name=\"file\"><button>upload</button></form>\n\
         <script>\n\
         // S3 puts the file's name in place of ${{filename}}; servers that do not get the\n\
         // name from here (the policy still keeps it under {FOLDER}/).\n\
         document.querySelector('#direct input[type=file]').addEventListener('change', (e) => {{\n\
           const f = e.target.files[0];\n\
           if (f) document.querySelector('#direct input[name=key]').value = '{FOLDER}/' + f.name;\n\
         }});\n\
         </script>\n</body></html>\n",
        escape(&form.url)
    )))
}

async fn upload(State(app): State<AppState>, mut multipart: Multipart) -> Result<Redirect, Response> {
    let bad = |m: String| (StatusCode::BAD_REQUEST, m).into_response();
    while let Some(mut field) = multipart.next_field().await.map_err(|e| bad(e.to_string()))? {
        let Some(file_name) = field.file_name().map(str::to_owned) else {
            continue;
        };
        if file_name.is_empty() {
            continue;
        }
        let storage = &app.storage;
        let wanted = storage
            .generate_filename(&format!("{FOLDER}/{file_name}"))
            .map_err(|e| AppError(e).into_response())?;
        let name = storage
            .get_available_name(&wanted, None)
            .await
            .map_err(|e| AppError(e).into_response())?;
        // Parts go to S3 as they fill; the object appears on close.
        let mut file = storage
            .open(&name, "wb")
            .await
            .map_err(|e| AppError(e).into_response())?;
        while let Some(chunk) = field.chunk().await.map_err(|e| bad(e.to_string()))? {
            file.write_all(&chunk)
                .await
                .map_err(|e| AppError(e.into()).into_response())?;
        }
        file.close().await.map_err(|e| AppError(e).into_response())?;
    }
    Ok(Redirect::to("/"))
}

async fn delete(State(app): State<AppState>, Path(name): Path<String>) -> Result<Redirect, AppError> {
    app.storage.delete(&name).await?;
    Ok(Redirect::to("/"))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let _embedded;
    let storage = if std::env::var("AWS_STORAGE_BUCKET_NAME").is_ok_and(|b| !b.is_empty()) {
        S3Storage::from_env()?
    } else {
        let server = server::Server::start().await;
        println!(
            "no AWS_STORAGE_BUCKET_NAME: started an embedded S3 server on {}",
            server.addr
        );
        let storage = S3Storage::builder()
            .options([
                ("bucket_name", "uploads"),
                ("endpoint_url", &format!("http://{}", server.addr)),
                ("access_key", server::ACCESS_KEY),
                ("secret_key", server::SECRET_KEY),
                ("file_overwrite", "false"),
            ])
            .no_globals()
            .build()?;
        storage.client().create_bucket().await?;
        _embedded = server;
        storage
    };
    let port = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(3000u16);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let public_url = format!("http://{}", listener.local_addr()?);
    println!("serving on {public_url}/");
    axum::serve(listener, router(storage, public_url)).await?;
    Ok(())
}
