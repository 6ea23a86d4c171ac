/**
 * The page's inline style and script, shared by the analysis and the audit reports. The script
 * only adds to a page that is complete without it: treemap zoom and path search, sortable
 * tables, the Dockerfile copy button. It reads data from <script type="application/json"> blocks
 * and writes text with textContent, never innerHTML.
 */

export const CSS = `
:root{--fg:#0f172a;--mut:#64748b;--line:#e2e8f0;--bg:#f8fafc;--card:#fff;--program:#2563eb;--library:#7c3aed;--need:#0d9488;--dropped:#cbd5e1;--dead:#fecaca;--add:#22c55e;--mod:#f59e0b;--rem:#94a3b8;--bad:#b91c1c}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
main{max-width:1280px;margin:0 auto;padding:20px 24px 60px}
h1{font-size:22px;margin:0 0 4px;word-break:break-all}
h2{font-size:17px;margin:34px 0 10px;padding-bottom:4px;border-bottom:1px solid var(--line)}
.mut{color:var(--mut)}
code,pre{font:12.5px/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
.verdict{display:flex;flex-wrap:wrap;gap:14px;align-items:stretch;margin:16px 0}
.card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:12px 16px}
.big{font-size:30px;font-weight:650;letter-spacing:-.5px}
.arrow{font-size:26px;color:var(--mut);align-self:center}
.kv{display:grid;grid-template-columns:repeat(auto-fill,minmax(170px,1fr));gap:10px;margin:12px 0}
.kv div{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:8px 12px}
.kv dt{font-size:12px;color:var(--mut)}.kv dd{margin:0;font-size:17px;font-weight:600}
.pill{display:inline-block;border-radius:99px;padding:1px 9px;font-size:12px;font-weight:600;background:#e2e8f0}
.c-high,.v-slim{background:#dcfce7;color:#166534}.c-medium,.v-already-small{background:#fef9c3;color:#854d0e}.c-low,.v-keep,.v-nothing-to-run{background:#fee2e2;color:#991b1b}
table{border-collapse:collapse;width:100%;background:var(--card);border:1px solid var(--line);border-radius:8px}
th,td{text-align:left;padding:5px 8px;border-bottom:1px solid var(--line);vertical-align:top}
th{font-size:12px;color:var(--mut);font-weight:600;background:#f1f5f9}
td.n,th.n{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}
.cb{max-width:520px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.bar{width:260px}.bar svg{display:block;width:260px;height:14px}
.legend{display:flex;flex-wrap:wrap;gap:14px;font-size:12px;color:var(--mut);margin:6px 0}
.legend i{display:inline-block;width:12px;height:12px;border-radius:3px;margin-right:5px;vertical-align:-2px}
.tm-wrap{position:relative;background:var(--card);border:1px solid var(--line);border-radius:8px;padding:6px}
#treemap{width:100%;height:auto;aspect-ratio:1200/720;display:block;cursor:zoom-in}
#treemap rect{stroke:#fff;stroke-width:.4;vector-effect:non-scaling-stroke}
#treemap .d>rect{fill:#f1f5f9;stroke:#94a3b8}
#treemap .k-program>rect{fill:var(--program)}#treemap .k-library>rect{fill:var(--library)}#treemap .k-need>rect{fill:var(--need)}#treemap .k-dropped>rect{fill:var(--dropped)}#treemap .k-dead>rect{fill:url(#hatch)}
#treemap .dup>rect{stroke:var(--bad);stroke-width:1.5;stroke-dasharray:3 2}
#treemap text{pointer-events:none;fill:#0f172a}
#treemap .k-program text,#treemap .k-library text,#treemap .k-need text{fill:#fff}
#treemap text .s{fill-opacity:.75}
#treemap .hit>rect{stroke:#f97316;stroke-width:3}
#treemap.searching .f:not(.hit)>rect{fill-opacity:.25}
.tm-bar{display:flex;gap:10px;align-items:center;margin:6px 0}
.tm-bar input{flex:1;max-width:420px;padding:6px 10px;border:1px solid var(--line);border-radius:6px;font:inherit}
.crumb{font-size:13px;color:var(--mut)}
button{font:inherit;font-size:13px;padding:4px 12px;border:1px solid #cbd5e1;border-radius:6px;background:#fff;cursor:pointer}
button:hover{background:#f1f5f9}
#hits{margin:4px 0 0;padding:0;list-style:none;font-size:12.5px;max-height:180px;overflow:auto}
#hits li{padding:2px 0}
.graph{overflow:auto;background:var(--card);border:1px solid var(--line);border-radius:8px;padding:8px}
#closure .e{fill:none;stroke:#94a3b8;stroke-width:1.2;marker-end:url(#arrow)}
#closure rect{fill:#ede9fe;stroke:#7c3aed}#closure .root rect{fill:#dbeafe;stroke:#2563eb}#closure .missing rect{fill:#fee2e2;stroke:var(--bad)}
#closure text{font:11px ui-monospace,Menlo,monospace;fill:#0f172a}#closure text.s{fill:var(--mut)}
pre.df{background:#0f172a;color:#e2e8f0;padding:14px;border-radius:8px;overflow:auto;max-height:520px}
.df-head{display:flex;justify-content:space-between;align-items:center}
ul.plain{margin:4px 0;padding-left:18px}
.sev-error{color:var(--bad);font-weight:600}.sev-warning{color:#b45309;font-weight:600}
th[data-sort]{cursor:pointer}th[data-sort]:after{content:" ↕";color:#cbd5e1}
.chart svg{display:block;width:100%;height:auto}
.chart rect{fill:var(--need)}.chart text{font-size:11px;fill:var(--fg)}
section.img{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:10px 16px;margin:12px 0}
section.img:target{outline:3px solid #f97316}
`

export const SCRIPT = `
(function(){
'use strict';
function $(s,r){return (r||document).querySelector(s)}
function data(id){var e=document.getElementById(id);return e?JSON.parse(e.textContent):null}
// Dockerfile copy button
var copy=$('#copy-df');
if(copy){copy.hidden=false;copy.addEventListener('click',function(){
  var t=$('#dockerfile').textContent;
  var done=function(){copy.textContent='Copied';setTimeout(function(){copy.textContent='Copy'},1500)};
  if(navigator.clipboard&&navigator.clipboard.writeText)navigator.clipboard.writeText(t).then(done,function(){sel()});else sel();
  function sel(){var r=document.createRange();r.selectNodeContents($('#dockerfile'));var s=getSelection();s.removeAllRanges();s.addRange(r);try{document.execCommand('copy');done()}catch(e){}}
})}
// Sortable tables
document.querySelectorAll('table.sortable').forEach(function(t){
  t.querySelectorAll('th[data-sort]').forEach(function(th,i){th.addEventListener('click',function(){
    var idx=Array.prototype.indexOf.call(th.parentNode.children,th),body=t.tBodies[0],rows=Array.prototype.slice.call(body.rows);
    var dir=th.getAttribute('aria-sort')==='descending'?1:-1;
    t.querySelectorAll('th').forEach(function(h){h.removeAttribute('aria-sort')});
    th.setAttribute('aria-sort',dir<0?'descending':'ascending');
    var num=th.getAttribute('data-sort')==='n';
    rows.sort(function(a,b){var x=a.cells[idx].getAttribute('data-v'),y=b.cells[idx].getAttribute('data-v');
      if(num){x=parseFloat(x);y=parseFloat(y);x=isNaN(x)?-Infinity:x;y=isNaN(y)?-Infinity:y;return (x-y)*dir}
      return String(x).localeCompare(String(y))*dir});
    rows.forEach(function(r){body.appendChild(r)});
  })})
});
// Treemap: zoom by viewBox, search by path
var svg=$('#treemap'),rows=data('tm-rows');
if(svg&&rows){
  var W=svg.viewBox.baseVal.width,H=svg.viewBox.baseVal.height,crumb=$('#tm-crumb'),up=$('#tm-up'),stack=[];
  $('.tm-tools').hidden=false;
  function box(g){var r=g.querySelector('rect');return [+r.getAttribute('x'),+r.getAttribute('y'),+r.getAttribute('width'),+r.getAttribute('height')]}
  function show(g){
    var b=g?box(g):[0,0,W,H];svg.setAttribute('viewBox',b.join(' '));
    crumb.textContent=g?rows[+g.id.slice(1)][0]:'/ (whole image)';up.disabled=!g;
  }
  svg.addEventListener('click',function(ev){
    var g=ev.target.closest('g');if(!g)return;
    if(!g.classList.contains('d'))g=document.getElementById('t'+rows[+g.id.slice(1)][4]);
    if(!g)return;if(stack[stack.length-1]===g)return;stack.push(g);show(g);
  });
  up.addEventListener('click',function(){stack.pop();show(stack[stack.length-1])});
  document.addEventListener('keydown',function(e){if(e.key==='Escape'&&stack.length){stack.pop();show(stack[stack.length-1])}});
  var q=$('#tm-search'),hits=$('#hits');
  q.addEventListener('input',function(){
    var s=q.value.trim().toLowerCase();
    svg.querySelectorAll('.hit').forEach(function(g){g.classList.remove('hit')});
    while(hits.firstChild)hits.removeChild(hits.firstChild);
    svg.classList.toggle('searching',!!s);if(!s)return;
    var found=[];
    for(var i=0;i<rows.length;i++)if(rows[i][0].toLowerCase().indexOf(s)>=0){found.push(i);var g=document.getElementById('t'+i);if(g)g.classList.add('hit')}
    found.sort(function(a,b){return rows[b][1]-rows[a][1]});
    found.slice(0,50).forEach(function(i){var li=document.createElement('li'),a=document.createElement('a');a.href='#';
      a.textContent=rows[i][0]+(rows[i][3]?' ('+rows[i][3]+' small entries)':'')+' \\u2014 '+fmt(rows[i][1]);
      a.addEventListener('click',function(e){e.preventDefault();var g=document.getElementById('t'+i);if(!g.classList.contains('d'))g.dispatchEvent(new MouseEvent('click',{bubbles:true}));else{stack.push(g);show(g)}});
      li.appendChild(a);hits.appendChild(li)});
    var more=document.createElement('li');more.className='mut';more.textContent=found.length+' match'+(found.length===1?'':'es');hits.insertBefore(more,hits.firstChild);
  });
  function fmt(n){var u=['B','kB','MB','GB','TB'],i=0;while(n>=1000&&i<4){n/=1000;i++}return (i?n.toFixed(n>=100?0:n>=10?1:2):n)+' '+u[i]}
}
})();
`
