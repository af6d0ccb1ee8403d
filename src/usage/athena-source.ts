import type { UsageProvider } from './source.js'
export const athenaSource: UsageProvider = { open() { return Promise.reject(new Error('todo')) } }
