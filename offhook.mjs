#!/usr/bin/env node
// Entry point installed as `offhook`: loads the TypeScript sources through tsx (a runtime dependency).
import { register } from 'tsx/esm/api';

register();
await import('./offhook.ts');
