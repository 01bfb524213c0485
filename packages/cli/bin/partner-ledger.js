#!/usr/bin/env node
// The `partner-ledger` command. A checked-in file rather than dist/bin.js itself: npm links a package's
// bin only if the file exists at install time, and in a fresh clone `npm ci` runs before the build.
require('../dist/bin.js');
