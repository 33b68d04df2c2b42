/** Every dashboard page, the permission it needs and where it sits in the navigation. */
import type { Permission } from '../../../src/modules/auth/permissions.ts';
import type { MessageKey } from '../shared/i18n.ts';

export type PageId =
  | 'overview'
  | 'funnels'
  | 'search'
  | 'cart'
  | 'retention'
  | 'reviews'
  | 'paths'
  | 'dwell'
  | 'demographics'
  | 'forecasts'
  | 'segments'
  | 'campaigns'
  | 'experiments'
  | 'loyalty'
  | 'recs-preview'
  | 'fraud-rules'
  | 'chat-analytics'
  | 'consent-stats'
  | 'customers'
  | 'dsar'
  | 'consent'
  | 'data-retention'
  | 'processing'
  | 'staff'
  | 'keys'
  | 'audit'
  | 'alerts'
  | 'fraud'
  | 'inbox'
  | 'fairness';

export type NavPage = { id: PageId; path: string; label: MessageKey; needs: Permission };
export type NavGroup = { label: MessageKey; pages: readonly NavPage[] };

// Dashboard paths never start with /v1 (the API) or /privacy (the shoppers' privacy centre).
export const NAV: readonly NavGroup[] = [
  {
    label: 'nav.analytics',
    pages: [
      { id: 'overview', path: '/overview', label: 'nav.overview', needs: 'analytics:read' },
      { id: 'funnels', path: '/funnels', label: 'nav.funnels', needs: 'analytics:read' },
      { id: 'search', path: '/search', label: 'nav.search', needs: 'analytics:read' },
      { id: 'cart', path: '/cart', label: 'nav.cart', needs: 'analytics:read' },
      { id: 'retention', path: '/retention', label: 'nav.retention', needs: 'analytics:read' },
      { id: 'reviews', path: '/reviews', label: 'nav.reviews', needs: 'analytics:read' },
      { id: 'paths', path: '/paths', label: 'nav.paths', needs: 'analytics:read' },
      { id: 'dwell', path: '/dwell', label: 'nav.dwell', needs: 'analytics:read' },
      { id: 'demographics', path: '/demographics', label: 'nav.demographics', needs: 'analytics:read' },
      { id: 'forecasts', path: '/forecasts', label: 'nav.forecasts', needs: 'analytics:read' },
    ],
  },
  {
    label: 'nav.marketing',
    pages: [
      { id: 'segments', path: '/segments', label: 'nav.segments', needs: 'marketing:read' },
      { id: 'campaigns', path: '/campaigns', label: 'nav.campaigns', needs: 'marketing:read' },
      { id: 'experiments', path: '/experiments', label: 'nav.experiments', needs: 'marketing:read' },
      // One shopper's points: privileged roles only (owner, admin, marketer hold loyalty:admin).
      { id: 'loyalty', path: '/loyalty', label: 'nav.loyalty', needs: 'loyalty:admin' },
    ],
  },
  {
    label: 'nav.customers',
    pages: [{ id: 'customers', path: '/customers', label: 'nav.customers', needs: 'pii:read' }],
  },
  {
    label: 'nav.operations',
    pages: [
      { id: 'inbox', path: '/inbox', label: 'nav.inbox', needs: 'chat:agent' },
      {
        id: 'chat-analytics',
        path: '/chat-analytics',
        label: 'nav.chatAnalytics',
        needs: 'chatbot:admin',
      },
      { id: 'fraud', path: '/fraud', label: 'nav.fraud', needs: 'fraud:review' },
      { id: 'fraud-rules', path: '/fraud-rules', label: 'nav.fraudRules', needs: 'fraud:admin' },
      { id: 'fairness', path: '/fairness', label: 'nav.fairness', needs: 'recommend:admin' },
      { id: 'recs-preview', path: '/recommendations', label: 'nav.recsPreview', needs: 'recommend:admin' },
    ],
  },
  {
    label: 'nav.privacy',
    pages: [
      { id: 'dsar', path: '/dsar', label: 'nav.dsar', needs: 'dsar:manage' },
      { id: 'consent', path: '/consent', label: 'nav.consent', needs: 'consent:read' },
      {
        id: 'consent-stats',
        path: '/consent-stats',
        label: 'nav.consentStats',
        needs: 'consent:read',
      },
      {
        id: 'data-retention',
        path: '/data-retention',
        label: 'nav.dataRetention',
        needs: 'privacy:admin',
      },
      { id: 'processing', path: '/processing', label: 'nav.processing', needs: 'privacy:admin' },
    ],
  },
  {
    label: 'nav.security',
    pages: [
      { id: 'staff', path: '/staff', label: 'nav.staff', needs: 'staff:admin' },
      { id: 'keys', path: '/keys', label: 'nav.keys', needs: 'keys:admin' },
      { id: 'audit', path: '/audit', label: 'nav.audit', needs: 'audit:read' },
      { id: 'alerts', path: '/alerts', label: 'nav.alerts', needs: 'security:read' },
    ],
  },
];

export const PAGES: readonly NavPage[] = NAV.flatMap((g) => g.pages);
