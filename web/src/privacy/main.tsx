import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import '../shared/styles.css';
import { PrivacyCentre } from './privacy-centre.tsx';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <PrivacyCentre />
  </StrictMode>,
);
