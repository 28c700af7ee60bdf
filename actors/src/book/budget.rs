//! The book's cost limit: before each call the engine asks whether what the book has spent plus what
//! the call is expected to cost stays within `budget_usd`; if not, the run stops with status `paused`
//! and reason [`BUDGET_REACHED`] (the author raises the limit and resumes). The expectation is the
//! prompt (≈ 4 chars a token) plus the asked words as output tokens with the +15 % a chunk may run
//! over, so spending overshoots the limit by at most one call's misestimate, never by a whole chunk more.

use super::ctx::BookCtx;
use crate::outcome::Halt;
use crate::ports::CompletionRequest;

/// `status_reason` of a book paused by its cost limit.
pub const BUDGET_REACHED: &str = "budget_reached";

/// Output beyond the asked words a chunk may bring before it is cut (the length check's upper bound).
const OUTPUT_ALLOWANCE: f64 = 1.15;

/// Tokens `request` is expected to use: (input, output).
pub fn expected_tokens(request: &CompletionRequest, words_per_token: f64) -> (u64, u64) {
    let chars: usize = request.system.chars().count()
        + request
            .messages
            .iter()
            .map(|m| m.content.chars().count())
            .sum::<usize>();
    let input = (chars as u64).div_ceil(4);
    let output = match request.context.word_budget {
        Some(words) => {
            (f64::from(words) / words_per_token.max(0.05) * OUTPUT_ALLOWANCE).ceil() as u64
        }
        None => u64::from(request.max_tokens),
    };
    (input, output.min(u64::from(request.max_tokens)))
}

impl BookCtx {
    /// `Err(Halt::Paused(budget_reached))` when `request` could take the book past its limit.
    pub(crate) fn ensure_budget(&self, request: &CompletionRequest) -> Result<(), Halt> {
        let Some(budget) = self.budget_usd else {
            return Ok(());
        };
        let (input, output) = expected_tokens(request, self.deps.config.words_per_token);
        let price = self.deps.llm.price_for(request.purpose);
        let next = (input as f64 * price.input_per_mtok + output as f64 * price.output_per_mtok)
            / 1_000_000.0;
        if self.cost_usd + next > budget {
            log::info!(
                "book {}: spent ${:.4}, the next call may cost ${next:.4}, the limit is ${budget:.4}",
                self.book_id,
                self.cost_usd
            );
            return Err(Halt::Paused(BUDGET_REACHED.to_string()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::{CallPurpose, Message, RequestContext, Role};

    #[test]
    fn expectation_is_prompt_plus_asked_words_within_the_limit() {
        let mut r = CompletionRequest {
            purpose: CallPurpose::Chunk,
            system: "x".repeat(400),
            messages: vec![Message {
                role: Role::User,
                content: "y".repeat(3600),
            }],
            max_tokens: 8000,
            temperature: None,
            context: RequestContext {
                word_budget: Some(750),
                ..RequestContext::default()
            },
        };
        assert_eq!(expected_tokens(&r, 0.75), (1000, 1150));
        r.max_tokens = 900;
        assert_eq!(expected_tokens(&r, 0.75), (1000, 900));
        r.context.word_budget = None;
        assert_eq!(expected_tokens(&r, 0.75), (1000, 900));
    }
}
