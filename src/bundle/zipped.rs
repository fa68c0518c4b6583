//! A bundle as one zip file (what the page's "Download model" saves): `manifest.json` and the
//! weights it names, at the top or inside one folder. Native only.

use std::io::{Cursor, Read};
use std::path::Path;

use super::{BundleError, MANIFEST_FILE, error};

/// Larger than any bundle this explorer accepts (weights are capped at 512 MB).
const MAX_ZIP_BYTES: u64 = 600 << 20;

/// The manifest text and the weights bytes of the zipped bundle at `path`.
pub fn read_zip(path: &Path) -> Result<(String, Vec<u8>), BundleError> {
    let shown = path.display();
    let bytes = std::fs::read(path).map_err(|e| error(format!("cannot read {shown}: {e}")))?;
    if bytes.len() as u64 > MAX_ZIP_BYTES {
        return Err(error(format!("{shown} is larger than any model bundle")));
    }
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| error(format!("{shown} is not a zip file ({e})")))?;
    let names = archive
        .file_names()
        .map(|name| name.map(|n| n.into_owned()))
        .collect::<Result<Vec<String>, _>>()
        .map_err(|e| error(format!("{shown} is damaged ({e})")))?;
    let manifest_name = names
        .iter()
        .filter(|n| n.rsplit('/').next() == Some(MANIFEST_FILE) && n.matches('/').count() <= 1)
        .min_by_key(|n| n.len())
        .ok_or_else(|| error(format!("{shown} holds no {MANIFEST_FILE}")))?
        .clone();
    let folder = &manifest_name[..manifest_name.len() - MANIFEST_FILE.len()];
    let mut read = |name: &str| -> Result<Vec<u8>, BundleError> {
        let mut file = archive
            .by_name(name)
            .map_err(|e| error(format!("{shown} holds no {name} ({e})")))?;
        if file.size() > MAX_ZIP_BYTES {
            return Err(error(format!("{name} in {shown} is too large")));
        }
        let mut out = Vec::with_capacity(file.size() as usize);
        file.read_to_end(&mut out)
            .map_err(|e| error(format!("{name} in {shown} is damaged: {e}")))?;
        Ok(out)
    };
    let manifest = String::from_utf8(read(&manifest_name)?)
        .map_err(|_| error(format!("{manifest_name} in {shown} is not text")))?;
    let weights_name = super::Manifest::parse(&manifest)
        .map_err(|e| error(format!("{manifest_name} in {shown}: {e}")))?
        .weights;
    let weights = read(&format!("{folder}{weights_name}"))?;
    Ok((manifest, weights))
}
