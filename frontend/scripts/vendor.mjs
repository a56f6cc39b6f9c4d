// Copies the Bootstrap files the shop uses from node_modules into vendor/, which is committed
// so that the shop runs on any static host with no build step. Run with `npm run vendor`
// after changing the pinned version in package.json and running `npm install`.
import { copyFileSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const source = join(root, "node_modules", "bootstrap");
const target = join(root, "vendor", "bootstrap");
const files = ["dist/css/bootstrap.min.css"];

const { version } = JSON.parse(readFileSync(join(source, "package.json"), "utf8"));
mkdirSync(target, { recursive: true });
for (const file of files) {
  copyFileSync(join(source, file), join(target, file.split("/").pop()));
  console.log(`vendor/bootstrap/${file.split("/").pop()} <- bootstrap@${version}/${file}`);
}
