import { cacheNamespace } from '../platform/cache/cache.js';

/**
 * Public statistics responses. key: `<endpoint>?<query values>`; value: the response body. Refreshed every minute
 * (the roll-ups change with every transition, so a schedule, not invalidation, bounds their age); ten minutes of grace.
 */
export const STATS_CACHE = cacheNamespace<object>('stats', { ttl: '60s', grace: '10m' });

/**
 * Map responses. key: the request's `bbox&from&to` as sent (an open range ends "now", so a minute's staleness is
 * the price of sharing it); value: the response body. Refreshed every minute; ten minutes of grace.
 */
export const MAP_CACHE = cacheNamespace<object>('map', { ttl: '60s', grace: '10m' });
