//! A preset's own settings as a channel holds them: each preset keeps its settings in a type of
//! its own (see `crate::presets`), behind [`Settings`].

use std::any::Any;
use std::sync::Arc;

/// One preset's settings, with every default filled in.
pub(crate) trait Settings: std::fmt::Debug + Send + Sync + Any {
    /// The settings as templates see them (`channel.settings.seller_id`), in the words of
    /// `pim.toml`.
    fn to_json(&self) -> serde_json::Value;

    /// What, beyond `pim.toml`, changes the verdicts of this channel (a file the settings
    /// name), for the build cache's fingerprint.
    fn fingerprint(&self) -> String {
        String::new()
    }
}

/// A channel's preset settings; empty for custom channels and presets without settings.
#[derive(Debug, Clone, Default)]
pub struct PresetSettings(Option<Arc<dyn Settings>>);

impl PresetSettings {
    pub(crate) fn new(settings: impl Settings) -> Self {
        Self(Some(Arc::new(settings)))
    }

    /// The settings as `T`, when they are a `T`: a preset reads its own this way.
    pub(crate) fn get<T: Settings>(&self) -> Option<&T> {
        let settings: &dyn Any = self.0.as_deref()?;
        settings.downcast_ref()
    }

    /// See [`Settings::to_json`]; `{}` when there are none.
    pub fn to_json(&self) -> serde_json::Value {
        self.0
            .as_ref()
            .map_or_else(|| serde_json::json!({}), |s| s.to_json())
    }

    /// See [`Settings::fingerprint`].
    pub fn fingerprint(&self) -> String {
        self.0.as_ref().map(|s| s.fingerprint()).unwrap_or_default()
    }
}
