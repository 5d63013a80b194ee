import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { setToken } from './api';
import { App } from './app';
import { takeToken } from './auth';
import './styles.css';

setToken(takeToken());
if (!location.hash.startsWith('#/')) history.replaceState(null, '', `${location.pathname}${location.search}#/markets`);

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
