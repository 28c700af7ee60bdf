//! A model per step of the writing: `BUKO_MODEL_ARCHITECTURE`, `BUKO_MODEL_CHUNK`,
//! `BUKO_MODEL_SUMMARY` and `BUKO_MODEL_AUDIT` name the model of the architecture, chunk, summary and
//! audit calls; a step without one uses `BUKO_MODEL` (the provider's model). A cheaper model for the
//! summaries, say, cuts a book's cost without touching its prose. Calls are recorded and priced with
//! the model that made them.

use buko_actors::CallPurpose;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StepModels {
    pub architecture: Option<String>,
    pub chunk: Option<String>,
    pub summary: Option<String>,
    pub audit: Option<String>,
}

impl StepModels {
    /// Reads the four variables (blank means unset).
    pub fn from_lookup(var: impl Fn(&str) -> Option<String>) -> StepModels {
        StepModels {
            architecture: var("BUKO_MODEL_ARCHITECTURE"),
            chunk: var("BUKO_MODEL_CHUNK"),
            summary: var("BUKO_MODEL_SUMMARY"),
            audit: var("BUKO_MODEL_AUDIT"),
        }
    }

    /// The model set for `purpose`, if any (by the purpose's name, so a step added to the engine
    /// later, such as `audit`, finds its variable).
    pub fn get(&self, purpose: CallPurpose) -> Option<&str> {
        match purpose.as_str() {
            "architecture" => self.architecture.as_deref(),
            "chunk" => self.chunk.as_deref(),
            "summary" => self.summary.as_deref(),
            "audit" => self.audit.as_deref(),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_step_names_its_model_or_falls_back() {
        let m = StepModels::from_lookup(|k| {
            (k == "BUKO_MODEL_SUMMARY").then(|| "claude-haiku-4-5".to_string())
        });
        assert_eq!(m.get(CallPurpose::Summary), Some("claude-haiku-4-5"));
        assert_eq!(m.get(CallPurpose::Chunk), None);
        assert_eq!(m.get(CallPurpose::Architecture), None);
    }
}
