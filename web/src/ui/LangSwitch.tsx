import { lang, setLang, t, type Lang } from '../i18n/index.js';

/** Italiano / English; each option is labelled in its own language. */
export function LangSwitch() {
  return (
    <div class="lang">
      <label for="lang-select" class="visually-hidden">{t('lang.label')}</label>
      <select id="lang-select" value={lang()} onChange={(e) => setLang((e.currentTarget.value as Lang) === 'en' ? 'en' : 'it')}>
        <option value="it" lang="it">Italiano</option>
        <option value="en" lang="en">English</option>
      </select>
    </div>
  );
}
