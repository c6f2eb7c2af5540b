import { bannerPlugin } from './probes/banner.ts';

export default bannerPlugin({
  kind: 'ssh',
  description: 'SSH: reads the identification string (SSH-2.0-...)',
  defaultPort: 22,
  greeting: /^SSH-\d+\.\d+-/,
});
