// Copies the third-party files FrameSell serves from node_modules into committed folders, so
// that nothing is built or downloaded at run time: Bootstrap's CSS for the shop (vendor/), and
// Swagger UI for the API's interactive page at /api/docs/ (served by the API itself, so it
// ships inside the Python package), and axe-core for the browser tests' accessibility checks
// (tests/e2e/vendor/, never served to shoppers). Run with `npm run vendor` after changing a pinned version
// in package.json and running `npm install`.
import { copyFileSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const repository = join(root, "..");
const packages = [
  {
    name: "bootstrap",
    target: join(root, "vendor", "bootstrap"),
    files: ["dist/css/bootstrap.min.css"],
  },
  {
    name: "swagger-ui-dist",
    target: join(repository, "framesell", "entrypoints", "data", "apidocs", "vendor"),
    files: [
      "swagger-ui-bundle.js",
      "swagger-ui-bundle.js.LICENSE.txt",
      "swagger-ui.css",
      "LICENSE",
      "NOTICE",
    ],
  },
  {
    name: "axe-core",
    target: join(repository, "tests", "e2e", "vendor"),
    files: ["axe.min.js", "LICENSE"],
  },
];

for (const { name, target, files } of packages) {
  const source = join(root, "node_modules", name);
  const { version } = JSON.parse(readFileSync(join(source, "package.json"), "utf8"));
  mkdirSync(target, { recursive: true });
  for (const file of files) {
    const copy = join(target, file.split("/").pop());
    copyFileSync(join(source, file), copy);
    console.log(`${relative(repository, copy)} <- ${name}@${version}/${file}`);
  }
}
