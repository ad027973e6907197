/**
 * Settings every test server gets: a busy test machine must not shed the test's own traffic (the shedding test drives
 * its own load reading), and pools keep the sizes a test gives them unless it turns the autoscaler on.
 */
export const TEST_SERVER_ENV = {
  SHED_PUBLIC_DELAY_MS: '0',
  SHED_READS_DELAY_MS: '0',
  SHED_WRITES_DELAY_MS: '0',
  SHED_PUBLIC_UTILISATION: '0',
  AUTOSCALE: 'false',
};
