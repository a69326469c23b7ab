#!/usr/bin/env node
// Strip registry URLs ("resolved") and funding links from package-lock.json, so the lock
// names no hosts. `npm ci` installs from it through whatever registry npm is configured for.
// Usage: npm run lock   (= npm install --package-lock-only && node clean-lock.js)
import fs from 'node:fs'

const file = new URL('./package-lock.json', import.meta.url)
const lock = JSON.parse(fs.readFileSync(file, 'utf-8'))
let removed = 0
for (const pkg of Object.values(lock.packages || {})) {
  for (const key of ['resolved', 'funding']) {
    if (key in pkg) {
      delete pkg[key]
      removed++
    }
  }
}
fs.writeFileSync(file, JSON.stringify(lock, null, 2) + '\n')
const left = (fs.readFileSync(file, 'utf-8').match(/https?:\/\//g) || []).length
console.log(`clean-lock: removed ${removed} fields; URLs left: ${left}`)
process.exit(left === 0 ? 0 : 1)
