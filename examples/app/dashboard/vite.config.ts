import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

/**
 * The kflow dashboard: a static React app served by the control server at `/` (`kflow paper --ui`,
 * `kflow serve`). Relative asset URLs, so the same build works behind any path prefix.
 */
export default defineConfig({
  root: import.meta.dirname,
  base: './',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 600,
  },
});
