import { canonicalJson, parseJsonArg, readArray, readInt, MAX_EMISSIONS_KG } from '@carbonlease/common';
import { previewSchedule } from './schedule';
import { parseTerms } from './terms';

/** Read-only: the schedule a lease with these terms would have under these verified emissions. */
export function previewScheduleTx(termsJson: string, emissionsJson: string): string {
    const terms = parseTerms(parseJsonArg(termsJson, 'terms_json'), 'terms_json');
    const emissions = readArray(parseJsonArg(emissionsJson, 'emissions_json'), 'emissions_json',
        terms.term_periods, terms.term_periods)
        .map((kg, index) => (kg === null ? null : readInt(kg, `emissions_json[${index}]`, 0, MAX_EMISSIONS_KG)));
    return canonicalJson(previewSchedule(terms, emissions));
}
