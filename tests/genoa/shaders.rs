//! Every `shaders/*.wgsl` parses and validates with naga (no GPU needed), and every shader is
//! in the registry the backends load from.

use std::path::Path;

fn validate(name: &str, src: &str) {
    let module = naga::front::wgsl::parse_str(src)
        .unwrap_or_else(|e| panic!("{name}: {}", e.emit_to_string(src)));
    naga::valid::Validator::new(
        naga::valid::ValidationFlags::all(),
        naga::valid::Capabilities::all(),
    )
    .validate(&module)
    .unwrap_or_else(|e| panic!("{name}: {}", e.emit_to_string(src)));
}

#[test]
fn every_shader_file_validates_and_is_registered() {
    let kernels = Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/genoa-kernels");
    let dir = kernels.join("shaders");
    let mut stems = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "wgsl") {
            let src = std::fs::read_to_string(&path).unwrap();
            validate(&path.display().to_string(), &src);
            stems.push(path.file_stem().unwrap().to_string_lossy().into_owned());
        }
    }
    assert!(!stems.is_empty(), "no shaders found in {}", dir.display());
    stems.sort();
    let mut registered: Vec<String> = genoa::backend::shaders::ALL
        .iter()
        .map(|(s, _)| s.to_string())
        .collect();
    registered.sort();
    assert_eq!(
        stems, registered,
        "shaders/ and backend::shaders::ALL disagree"
    );
    for (stem, src) in genoa::backend::shaders::ALL {
        let on_disk = std::fs::read_to_string(dir.join(format!("{stem}.wgsl"))).unwrap();
        assert_eq!(&on_disk, src, "{stem}: registry is stale");
        // Each shader has a contract module of the same stem.
        let contract = kernels.join(format!("src/kernel/{stem}.rs"));
        assert!(
            contract.exists(),
            "{stem}: no contract at {}",
            contract.display()
        );
    }
}

#[test]
fn naga_rejects_a_broken_shader() {
    let src = "@compute @workgroup_size(1) fn main() { let x: i32 = 1.5; }";
    let failed = match naga::front::wgsl::parse_str(src) {
        Err(_) => true,
        Ok(m) => naga::valid::Validator::new(
            naga::valid::ValidationFlags::all(),
            naga::valid::Capabilities::all(),
        )
        .validate(&m)
        .is_err(),
    };
    assert!(failed);
}
