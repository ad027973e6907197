import formats from '../../../data/uz-plate-formats.json';
import { compilePlateRules, type PlateFormatsFile } from './plate';

/** The server's plate formats, bundled into the app (2 kB) so the check runs as the citizen types. */
export const plateRules = compilePlateRules(formats as PlateFormatsFile);
