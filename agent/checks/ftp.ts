import { bannerPlugin } from './probes/banner.ts';

export default bannerPlugin({
  kind: 'ftp',
  description: 'FTP: reads the 220 greeting (multi-line aware), then QUIT',
  defaultPort: 21,
  greeting: /^220[ -]/,
  lastGreetingLine: /^\d{3} /,
  quit: 'QUIT',
});
