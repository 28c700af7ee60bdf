//! The offline image generator: generative art from the book's genre, tone and id
//! (`buko_export::cover::art`), drawn on the blocking pool. Same book and candidate, same picture.

use buko_actors::{LlmError, LlmErrorKind};
use futures_util::future::LocalBoxFuture;

use super::{ImagePort, ImageRequest};

pub struct OfflineImages;

/// The art for a request, as JPEG bytes (what a provider would send).
pub fn draw(request: &ImageRequest) -> Option<Vec<u8>> {
    let art = buko_export::cover::offline_art(&request.seed, &request.genre, &request.tone)?;
    Some(buko_export::cover::encode_jpeg(
        &art,
        buko_export::cover::JPEG_QUALITY,
    ))
}

impl ImagePort for OfflineImages {
    fn provider(&self) -> &str {
        "offline"
    }
    fn model(&self) -> &str {
        "generative"
    }
    fn price_per_image(&self) -> f64 {
        0.0
    }
    fn generate(
        &self,
        request: ImageRequest,
    ) -> LocalBoxFuture<'static, Result<Vec<u8>, LlmError>> {
        Box::pin(async move {
            actix_web::web::block(move || draw(&request))
                .await
                .ok()
                .flatten()
                .ok_or_else(|| {
                    LlmError::permanent(LlmErrorKind::Malformed, "drawing the art failed")
                })
        })
    }
}
