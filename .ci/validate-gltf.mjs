// Run the Khronos glTF validator on one file and print its JSON report to stdout.
//
// Usage: node .ci/validate-gltf.mjs FILE.glb
// The validator is loaded from <repo>/.cache/npm (see .ci/install-gltf-validator). External
// resources (.bin, images) are resolved next to the file. Exit status 0 when the report was
// printed (whatever it contains), 2 on usage or load failure.
import { createRequire } from "node:module";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, "..", ".cache", "npm", "package.json"));

const file = process.argv[2];
if (!file) {
  console.error("usage: node validate-gltf.mjs FILE");
  process.exit(2);
}
let validator;
try {
  validator = require("gltf-validator");
} catch (err) {
  console.error(`gltf-validator is not installed: ${err.message}`);
  process.exit(2);
}
const data = new Uint8Array(await readFile(file));
const report = await validator.validateBytes(data, {
  uri: path.basename(file),
  maxIssues: 1000,
  externalResourceFunction: (uri) =>
    readFile(path.join(path.dirname(file), decodeURIComponent(uri))).then((b) => new Uint8Array(b)),
});
process.stdout.write(JSON.stringify(report, null, 1) + "\n");
