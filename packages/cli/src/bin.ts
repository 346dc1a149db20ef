#!/usr/bin/env node
// Kept tiny so `fdcr --version` starts fast: everything else is loaded on demand.
import { main } from './main.js';

process.exitCode = await main(process.argv.slice(2));
