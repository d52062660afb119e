// Points the guest's "/" at a scratch directory for tests under jco serve (whose
// default preopen is the host's real "/"): `--jco-import <this file>` with
// EOS_PREVIEW2_SHIM (the preview2-shim package jco uses) and EOS_FILES_ROOT set.
import path from 'node:path';
import process from 'node:process';
import { pathToFileURL } from 'node:url';

const shim = process.env.EOS_PREVIEW2_SHIM;
const root = process.env.EOS_FILES_ROOT;
if (!shim || !root) throw new Error('preopen.mjs needs EOS_PREVIEW2_SHIM and EOS_FILES_ROOT');
const fs = await import(pathToFileURL(path.join(shim, 'dist', 'nodejs', 'filesystem.js')).href);
fs._setPreopens({ '/': root });
