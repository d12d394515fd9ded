// Builds the web console (run as `vite build console` from the repository root). The edge's
// admin listener serves the output at /console/, so every URL is based there.
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

export default defineConfig({
  base: '/console/',
  plugins: [react()],
  build: {
    outDir: '../dist/console',
    emptyOutDir: true,
    // No inlined assets: the edge's Content-Security-Policy allows only same-origin files.
    assetsInlineLimit: 0,
  },
});
