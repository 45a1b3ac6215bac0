import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { onLinkClick } from './router';
import { applyTheme, initialTheme, type Theme } from './theme';

export function Shell({
  brand,
  links,
  path,
  hashLinks = false,
  children,
}: {
  brand: string;
  links: ReadonlyArray<[string, string]>;
  path: string;
  /** Links are `#/…` routes the browser follows itself. */
  hashLinks?: boolean;
  children: ComponentChildren;
}) {
  const [theme, setTheme] = useState<Theme>(() => {
    const t = initialTheme();
    applyTheme(t);
    return t;
  });
  const toggle = () => {
    const next = theme === 'dark' ? 'light' : 'dark';
    applyTheme(next);
    setTheme(next);
  };
  return (
    <>
      <nav class="top">
        <span class="brand">{brand}</span>
        {links.map(([href, text]) => (
          <a
            key={href}
            href={href}
            onClick={hashLinks ? undefined : onLinkClick}
            class={path === href ? 'active' : ''}
          >
            {text}
          </a>
        ))}
        <span class="spacer" />
        <button onClick={toggle} aria-label="Toggle dark theme" data-testid="theme-toggle">
          {theme === 'dark' ? '☀ Light' : '☾ Dark'}
        </button>
      </nav>
      <main>{children}</main>
    </>
  );
}
