//! Random bytes from `crypto.getRandomValues` (a CSPRNG), for state, nonce and the PKCE verifier.

use super::error::{js_error, window, BrowserError};

/// `N` random bytes from `crypto.getRandomValues`.
///
/// Errors: [`BrowserError::NoWindow`], [`BrowserError::CryptoUnavailable`] when `window.crypto` is missing,
/// [`BrowserError::Js`] when the call throws (`N` above 65 536 is a `QuotaExceededError`).
pub fn random_bytes<const N: usize>() -> Result<[u8; N], BrowserError> {
    let crypto = window()?
        .crypto()
        .map_err(|_| BrowserError::CryptoUnavailable)?;
    let mut bytes = [0u8; N];
    crypto
        .get_random_values_with_u8_array(&mut bytes)
        .map_err(js_error)?;
    Ok(bytes)
}
